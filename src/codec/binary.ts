import { RaftError } from '../core/index.js';

/** The bytes a writer starts with; it doubles as needed. */
export const writerInitialBytes = 256;

/** Beyond this many bytes a writer refuses to grow (a u32 length prefix cannot describe more). */
export const writerBytesMax = 0xffff_ffff;

const twoPow32 = 0x1_0000_0000;
const utf8Encoder = new TextEncoder();
// `fatal` makes malformed UTF-8 an error instead of silently becoming U+FFFD; `ignoreBOM` keeps a
// leading U+FEFF as text rather than dropping it, so every string survives a round trip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(message: string, cause?: unknown): RaftError {
  return new RaftError('INVALID_MESSAGE', message, cause === undefined ? {} : { cause });
}

// Little-endian 32-bit access by hand: creating a DataView per message costs more than the shifts.
function setUint32(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset] = value & 0xff;
  buffer[offset + 1] = (value >>> 8) & 0xff;
  buffer[offset + 2] = (value >>> 16) & 0xff;
  buffer[offset + 3] = (value >>> 24) & 0xff;
}

function getUint32(buffer: Uint8Array, offset: number): number {
  return (
    (buffer[offset]! | (buffer[offset + 1]! << 8) | (buffer[offset + 2]! << 16)) +
    buffer[offset + 3]! * 0x100_0000
  );
}

function getInt32(buffer: Uint8Array, offset: number): number {
  return (
    buffer[offset]! |
    (buffer[offset + 1]! << 8) |
    (buffer[offset + 2]! << 16) |
    (buffer[offset + 3]! << 24)
  );
}

/** Strings up to this many UTF-16 units take a hand-written ASCII path (node ids, mostly). */
const shortStringLengthMax = 64;

function checkUnsigned(value: number, maximum: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > maximum) {
    throw invalid(`${what} out of range: ${String(value)}`);
  }
}

/**
 * Writes `value` as {@link BinaryWriter.u64} does, checked the same way, into `buffer` at
 * `offset`: for a fixed header written straight into the buffer that holds the whole record,
 * without a writer and a view of its bytes per record.
 */
export function writeU64At(buffer: Uint8Array, offset: number, value: number): void {
  checkUnsigned(value, Number.MAX_SAFE_INTEGER, 'u64');
  setUint32(buffer, offset, value % twoPow32);
  setUint32(buffer, offset + 4, Math.floor(value / twoPow32));
}

/**
 * Appends little-endian binary values to a growable buffer.
 *
 * Every write checks its value, so a message that cannot be represented fails when it is encoded
 * (RaftError `INVALID_MESSAGE`) instead of arriving garbled on the other side.
 */
export class BinaryWriter {
  #buffer: Uint8Array;
  #length = 0;
  readonly #bytesMax: number;

  constructor(options: { initialBytes?: number; bytesMax?: number } = {}) {
    this.#buffer = new Uint8Array(options.initialBytes ?? writerInitialBytes);
    this.#bytesMax = options.bytesMax ?? writerBytesMax;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Bytes the buffer can hold before it grows. */
  get capacity(): number {
    return this.#buffer.length;
  }

  /** Forgets everything written, keeping the buffer, so one writer can encode many values. */
  reset(): this {
    this.#length = 0;
    return this;
  }

  /** Writes one byte, 0 to 255. */
  u8(value: number): this {
    checkUnsigned(value, 0xff, 'u8');
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
    return this;
  }

  /** Writes a boolean as one byte, 0 or 1. */
  boolean(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** Writes an unsigned 32-bit integer. */
  u32(value: number): this {
    checkUnsigned(value, 0xffff_ffff, 'u32');
    this.#reserve(4);
    setUint32(this.#buffer, this.#length, value);
    this.#length += 4;
    return this;
  }

  /** Writes a non-negative integer up to `Number.MAX_SAFE_INTEGER` in 8 bytes. */
  u64(value: number): this {
    this.#reserve(8);
    writeU64At(this.#buffer, this.#length, value);
    this.#length += 8;
    return this;
  }

  /** Writes a safe integer that may be negative (two's complement, 8 bytes). */
  i64(value: number): this {
    if (!Number.isSafeInteger(value)) throw invalid(`i64 out of range: ${String(value)}`);
    this.#reserve(8);
    const high = Math.floor(value / twoPow32);
    setUint32(this.#buffer, this.#length, value - high * twoPow32);
    // The high word of a negative value is negative; the shifts store its two's complement.
    setUint32(this.#buffer, this.#length + 4, high);
    this.#length += 8;
    return this;
  }

  /** Writes a u32 length followed by the bytes. */
  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.#reserve(value.length);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** Writes a u32 byte length followed by the UTF-8 encoding of `value`. */
  string(value: string): this {
    if (value.length <= shortStringLengthMax && this.#asciiString(value)) return this;
    // Encode straight into the buffer: a UTF-16 code unit never needs more than 3 UTF-8 bytes.
    const worstCaseBytes = 4 + value.length * 3;
    if (this.#length + worstCaseBytes > this.#bytesMax)
      return this.bytes(utf8Encoder.encode(value));
    this.#reserve(worstCaseBytes);
    const start = this.#length + 4;
    const { written } = utf8Encoder.encodeInto(value, this.#buffer.subarray(start));
    setUint32(this.#buffer, this.#length, written);
    this.#length = start + written;
    return this;
  }

  // Writes `value` if it is pure ASCII and returns true; otherwise writes nothing.
  #asciiString(value: string): boolean {
    for (let index = 0; index < value.length; index++) {
      if (value.charCodeAt(index) >= 0x80) return false;
    }
    this.#reserve(4 + value.length);
    const buffer = this.#buffer;
    setUint32(buffer, this.#length, value.length);
    let offset = this.#length + 4;
    for (let index = 0; index < value.length; index++) buffer[offset++] = value.charCodeAt(index);
    this.#length = offset;
    return true;
  }

  /** Overwrites a u32 written earlier at `offset`, for length prefixes known only at the end. */
  u32At(offset: number, value: number): this {
    checkUnsigned(value, 0xffff_ffff, 'u32');
    if (!Number.isInteger(offset) || offset < 0 || offset + 4 > this.#length) {
      throw new RangeError(`u32At offset ${String(offset)} outside the written bytes`);
    }
    setUint32(this.#buffer, offset, value);
    return this;
  }

  /**
   * The bytes written so far, as a view of the internal buffer (no copy). Write nothing more after
   * calling it: a later write may grow the buffer or overwrite what the view shows.
   */
  finish(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  #reserve(count: number): void {
    const needed = this.#length + count;
    if (needed > this.#bytesMax) {
      throw invalid(`encoding needs ${String(needed)} bytes, over the limit of ${this.#bytesMax}`);
    }
    if (needed <= this.#buffer.length) return;
    const capacity = Math.min(Math.max(needed, this.#buffer.length * 2), this.#bytesMax);
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

/**
 * Reads little-endian binary values written by {@link BinaryWriter}. Every read is bounds-checked;
 * any failure (truncation, an integer out of range, a length over the caller's limit, malformed
 * UTF-8) throws RaftError `INVALID_MESSAGE`, so input from the network can never crash the reader.
 */
export class BinaryReader {
  readonly #buffer: Uint8Array;
  #offset = 0;

  constructor(buffer: Uint8Array) {
    this.#buffer = buffer;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#buffer.length - this.#offset;
  }

  /** Reads one byte. */
  u8(): number {
    this.#need(1, 'u8');
    return this.#buffer[this.#offset++]!;
  }

  /** Reads a boolean; any byte other than 0 or 1 is rejected. */
  boolean(): boolean {
    const value = this.u8();
    if (value > 1) throw invalid(`boolean byte must be 0 or 1, got ${String(value)}`);
    return value === 1;
  }

  /** Reads an unsigned 32-bit integer. */
  u32(): number {
    this.#need(4, 'u32');
    const value = getUint32(this.#buffer, this.#offset);
    this.#offset += 4;
    return value;
  }

  /** Reads an 8-byte unsigned integer; values above `Number.MAX_SAFE_INTEGER` are rejected. */
  u64(): number {
    this.#need(8, 'u64');
    const low = getUint32(this.#buffer, this.#offset);
    const high = getUint32(this.#buffer, this.#offset + 4);
    // 2^53 - 1 has 21 bits in the high word.
    if (high > 0x1f_ffff) throw invalid('u64 above Number.MAX_SAFE_INTEGER');
    this.#offset += 8;
    return high * twoPow32 + low;
  }

  /** Reads an 8-byte two's complement integer; values outside the safe range are rejected. */
  i64(): number {
    this.#need(8, 'i64');
    const low = getUint32(this.#buffer, this.#offset);
    const high = getInt32(this.#buffer, this.#offset + 4);
    const value = high * twoPow32 + low;
    if (!Number.isSafeInteger(value)) throw invalid('i64 outside the safe integer range');
    this.#offset += 8;
    return value;
  }

  /**
   * Reads a u32 length and that many bytes, returned as a view into the input (no copy): the caller
   * must not modify the input while the view is in use. Lengths over `bytesMax` are rejected.
   */
  bytes(bytesMax: number): Uint8Array {
    const length = this.#length(bytesMax, 'bytes');
    const value = this.#buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /** Reads a u32 byte length and that many bytes of strict UTF-8, at most `bytesMax` bytes. */
  string(bytesMax: number): string {
    const length = this.#length(bytesMax, 'string');
    const start = this.#offset;
    let value: string | null = length <= shortStringLengthMax ? this.#asciiString(length) : null;
    if (value !== null) {
      this.#offset += length;
      return value;
    }
    try {
      value = utf8Decoder.decode(this.#buffer.subarray(start, start + length));
    } catch (error) {
      throw invalid('string is not valid UTF-8', error);
    }
    this.#offset += length;
    return value;
  }

  // Decodes `length` bytes at the offset if they are all ASCII (always valid UTF-8), else null.
  #asciiString(length: number): string | null {
    const buffer = this.#buffer;
    let value = '';
    for (let index = this.#offset; index < this.#offset + length; index++) {
      const byte = buffer[index]!;
      if (byte >= 0x80) return null;
      value += String.fromCharCode(byte);
    }
    return value;
  }

  /**
   * Reads a u32 element count for a list, rejecting counts over `countMax` and counts that could
   * not fit in the remaining bytes at `elementBytesMin` bytes each (so a forged count cannot make the
   * caller allocate before the input runs out).
   */
  count(countMax: number, elementBytesMin: number, what: string): number {
    const count = this.u32();
    if (count > countMax) {
      throw invalid(`${what}: ${String(count)} elements, over the limit of ${String(countMax)}`);
    }
    if (count * elementBytesMin > this.remaining) throw invalid(`${what}: truncated`);
    return count;
  }

  /** Throws unless every byte has been read: trailing bytes mean the input is not what we think. */
  end(): void {
    if (this.remaining !== 0) {
      throw invalid(`${String(this.remaining)} unexpected bytes after the end of the value`);
    }
  }

  #length(bytesMax: number, what: string): number {
    const length = this.u32();
    if (length > bytesMax) {
      throw invalid(`${what} of ${String(length)} bytes, over the limit of ${String(bytesMax)}`);
    }
    this.#need(length, what);
    return length;
  }

  #need(count: number, what: string): void {
    if (this.#offset + count > this.#buffer.length) {
      throw invalid(`truncated input: ${what} needs ${String(count)} bytes at ${this.#offset}`);
    }
  }
}
