import type { KeyspaceImage, KvEntry, KvValue, RestoredRecords } from './keyspace.js';
import { RestoredKeys } from './restored-keys.js';

/** Bytes per chunk of a serialized keyspace. */
export const keyspaceChunkBytes = 1024 * 1024;

type EncodedValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'hash'; readonly fields: readonly (readonly [string, string])[] }
  | { readonly type: 'set'; readonly members: readonly string[] };

interface EncodedEntry {
  readonly value: EncodedValue;
  readonly expiresAtMs: number | null;
  readonly modifiedIndex: number;
}

interface EncodedImage {
  readonly version: number;
  readonly timeMs: number;
  readonly index: number;
  readonly entries: readonly (readonly [string, EncodedEntry])[];
  readonly tombstones: readonly (readonly [string, number])[];
  readonly tombstoneFloorIndex: number;
}

function decodeValue(value: EncodedValue): KvValue {
  switch (value.type) {
    case 'string':
      return { type: 'string', value: Buffer.from(value.value, 'base64') };
    case 'hash':
      return {
        type: 'hash',
        fields: new Map(
          value.fields.map(([field, bytes]) => [field, Buffer.from(bytes, 'base64')]),
        ),
      };
    case 'set':
      return { type: 'set', members: new Set(value.members) };
  }
}

/** First byte of the binary format; the older JSON format starts with `{`. */
const binaryFormatVersion = 2;
const valueTypeCodes = { string: 0, hash: 1, set: 2 } as const;
/** Header: version, replicated time, index, tombstone floor, entry and tombstone counts. */
const headerBytes = 1 + 8 + 8 + 8 + 4 + 4;

/** Bytes a latin1 string takes with its u32 length. */
const textBytes = (text: string): number => 4 + text.length;

function valueBytes(value: KvValue): number {
  switch (value.type) {
    case 'string':
      return 4 + value.value.byteLength;
    case 'hash': {
      let total = 4;
      for (const [field, bytes] of value.fields) total += textBytes(field) + 4 + bytes.byteLength;
      return total;
    }
    case 'set': {
      let total = 4;
      for (const member of value.members) total += textBytes(member);
      return total;
    }
  }
}

/** Writes fields one after another into a buffer sized in advance. */
class ImageWriter {
  readonly buffer: Buffer;
  offset = 0;

  constructor(bytes: number) {
    this.buffer = Buffer.allocUnsafe(bytes);
  }

  u8(value: number): void {
    this.offset = this.buffer.writeUInt8(value, this.offset);
  }

  u32(value: number): void {
    this.offset = this.buffer.writeUInt32LE(value, this.offset);
  }

  f64(value: number): void {
    this.offset = this.buffer.writeDoubleLE(value, this.offset);
  }

  text(value: string): void {
    this.u32(value.length);
    this.offset += this.buffer.write(value, this.offset, 'latin1');
  }

  bytes(value: Buffer): void {
    this.u32(value.byteLength);
    value.copy(this.buffer, this.offset);
    this.offset += value.byteLength;
  }
}

/**
 * Serializes a keyspace image at once (the image shares live values, so it must be copied before
 * the next entry applies) and returns it in chunks. Expiry deadlines, the replicated clock and
 * every key's last-modified index travel as they are, so a restored server expires the same keys
 * at the same point of the log and reaches the same WATCH verdicts. The format is binary (keys,
 * fields and members are latin1 text, one byte per character): a JSON image with base64 values
 * took seconds to read back for a hundred thousand keys, and restoring is on every restart.
 */
export function encodeKeyspaceImage(image: KeyspaceImage): Uint8Array[] {
  let total = headerBytes;
  for (const [key, entry] of image.entries) {
    total += textBytes(key) + 1 + 1 + 8 + 8 + valueBytes(entry.value);
  }
  for (const [key] of image.tombstones) total += textBytes(key) + 8;
  const writer = new ImageWriter(total);
  writer.u8(binaryFormatVersion);
  writer.f64(image.timeMs);
  writer.f64(image.index);
  writer.f64(image.tombstoneFloorIndex);
  writer.u32(image.entries.length);
  writer.u32(image.tombstones.length);
  for (const [key, entry] of image.entries) {
    writer.text(key);
    writer.u8(entry.expiresAtMs === null ? 0 : 1);
    writer.f64(entry.expiresAtMs ?? 0);
    writer.f64(entry.modifiedIndex);
    writeValue(writer, entry.value);
  }
  for (const [key, index] of image.tombstones) {
    writer.text(key);
    writer.f64(index);
  }
  if (writer.offset !== total) throw new Error('keyspace image size miscounted');
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < total; offset += keyspaceChunkBytes) {
    chunks.push(writer.buffer.subarray(offset, offset + keyspaceChunkBytes));
  }
  return chunks;
}

function writeValue(writer: ImageWriter, value: KvValue): void {
  writer.u8(valueTypeCodes[value.type]);
  switch (value.type) {
    case 'string':
      writer.bytes(value.value);
      return;
    case 'hash':
      writer.u32(value.fields.size);
      for (const [field, bytes] of value.fields) {
        writer.text(field);
        writer.bytes(bytes);
      }
      return;
    case 'set':
      writer.u32(value.members.size);
      for (const member of value.members) writer.text(member);
      return;
  }
}

/** Reads fields back, refusing to read past the end. */
class ImageReader {
  readonly #buffer: Buffer;
  #offset: number;

  constructor(buffer: Buffer, offset = 0) {
    this.#buffer = buffer;
    this.#offset = offset;
  }

  /** Where the next field starts. */
  get offset(): number {
    return this.#offset;
  }

  #take(bytes: number): number {
    const start = this.#offset;
    if (start + bytes > this.#buffer.byteLength) throw new Error('keyspace snapshot is truncated');
    this.#offset += bytes;
    return start;
  }

  u8(): number {
    return this.#buffer.readUInt8(this.#take(1));
  }

  u32(): number {
    return this.#buffer.readUInt32LE(this.#take(4));
  }

  f64(): number {
    return this.#buffer.readDoubleLE(this.#take(8));
  }

  text(): string {
    const length = this.u32();
    const start = this.#take(length);
    return this.#buffer.toString('latin1', start, start + length);
  }

  /** A view into the image, which the decoder owns (see {@link KeyspaceImageDecoder}). */
  bytes(): Buffer {
    const length = this.u32();
    const start = this.#take(length);
    return this.#buffer.subarray(start, start + length);
  }
}

/** A hash or set value (strings are read in line by the decoder). */
function readCollection(reader: ImageReader, code: number): KvValue {
  switch (code) {
    case valueTypeCodes.hash: {
      const fields = new Map<string, Buffer>();
      for (let count = reader.u32(); count > 0; count--) fields.set(reader.text(), reader.bytes());
      return { type: 'hash', fields };
    }
    case valueTypeCodes.set: {
      const members = new Set<string>();
      for (let count = reader.u32(); count > 0; count--) members.add(reader.text());
      return { type: 'set', members };
    }
    default:
      throw new Error(`unknown value type ${code} in keyspace snapshot`);
  }
}

/**
 * Where the fields of a key's record lie, from the end of its name: an expiry flag (u8), the
 * expiry time (f64), the last-write index (f64), the value type (u8), then the value; a string
 * value is a u32 length and its bytes.
 */
const expiryTimeAt = 1;
const modifiedIndexAt = 9;
const valueTypeAt = 17;
const valueAt = 18;
const stringBytesAt = valueAt + 4;

/** The expiry of the record at `record`, or null. */
function expiryOf(bytes: Buffer, record: number): number | null {
  return bytes[record] === 1 ? bytes.readDoubleLE(record + expiryTimeAt) : null;
}

/** Where a check of an image stopped, and what it counted on the way. */
interface ImageCheck {
  readonly expiring: number;
}

/**
 * Walks a whole image once, checking every length, type code and the exact end without building
 * anything. It runs on every restart before the server joins an election, so it is one loop over
 * plain offsets: a reader call per field made it several times slower on a cold start.
 */
function checkImage(bytes: Buffer, entryCount: number, tombstoneCount: number): ImageCheck {
  const size = bytes.byteLength;
  let offset = headerBytes;
  /** The offset just past a length-prefixed field starting at `at`. */
  const field = (at: number): number => {
    if (at + 4 > size) throw new Error('keyspace snapshot is truncated');
    const end = at + 4 + bytes.readUInt32LE(at);
    if (end > size) throw new Error('keyspace snapshot is truncated');
    return end;
  };
  let expiring = 0;
  for (let count = 0; count < entryCount; count++) {
    offset = field(offset);
    // Expiry flag, expiry time, modified index, value type.
    if (offset + valueAt > size) throw new Error('keyspace snapshot is truncated');
    if (bytes[offset] === 1) expiring++;
    const code = bytes[offset + valueTypeAt]!;
    offset += valueAt;
    if (code === valueTypeCodes.string) {
      offset = field(offset);
      continue;
    }
    if (code !== valueTypeCodes.hash && code !== valueTypeCodes.set) {
      throw new Error(`unknown value type ${code} in keyspace snapshot`);
    }
    if (offset + 4 > size) throw new Error('keyspace snapshot is truncated');
    const fieldsPerItem = code === valueTypeCodes.hash ? 2 : 1;
    let fields = bytes.readUInt32LE(offset) * fieldsPerItem;
    offset += 4;
    for (; fields > 0; fields--) offset = field(offset);
  }
  for (let count = 0; count < tombstoneCount; count++) {
    offset = field(offset) + 8;
    if (offset > size) throw new Error('keyspace snapshot is truncated');
  }
  if (offset !== size) throw new Error('keyspace snapshot has bytes after its end');
  return { expiring };
}

/**
 * A binary keyspace image, checked whole when opened (every length, type code and the exact end,
 * without building anything) and then decoded a slice of keys at a time. Once the constructor
 * has returned, decoding cannot fail: a restore can go on in the background of a running server.
 *
 * The decoder owns the bytes it is given. A restored key stays in the image, found through a
 * {@link RestoredKeys} index, until first used, and a string value is then a view rather than a
 * copy: a copy per value was a third of a restart's keyspace load. The whole image therefore
 * stays in memory until the keyspace is next restored or flushed: once most restored keys have
 * been overwritten or deleted, the server may hold up to one image more than its keys need.
 */
export class KeyspaceImageDecoder implements RestoredRecords {
  readonly timeMs: number;
  readonly index: number;
  readonly tombstoneFloorIndex: number;
  /** Keys in the image. */
  readonly entryCount: number;
  /** Keys in the image that carry an expiry. */
  readonly expiringCount: number;
  /** The keys {@link nextEntries} has walked, found where they lie in the image. */
  readonly keys: RestoredKeys;
  readonly #bytes: Buffer;
  readonly #tombstoneCount: number;
  #offset = headerBytes;
  #entriesLeft: number;

  constructor(bytes: Buffer) {
    const reader = new ImageReader(bytes);
    reader.u8();
    this.timeMs = reader.f64();
    this.index = reader.f64();
    this.tombstoneFloorIndex = reader.f64();
    this.entryCount = reader.u32();
    this.#tombstoneCount = reader.u32();
    this.#entriesLeft = this.entryCount;
    this.#bytes = bytes;
    this.expiringCount = checkImage(bytes, this.entryCount, this.#tombstoneCount).expiring;
    this.keys = new RestoredKeys(bytes, this.entryCount);
  }

  /** Whether every entry has been decoded (the tombstones remain). */
  get done(): boolean {
    return this.#entriesLeft === 0;
  }

  /**
   * Walks up to `countMax` more entries, in the image's order, handing `sink` where each key's
   * length field lies and its expiry; {@link entryAt} decodes a record when its key is first used.
   * The image was checked whole, so this reads plain offsets without bounds checks of its own.
   */
  nextEntries(countMax: number, sink: (keyAt: number, expiresAtMs: number | null) => void): void {
    const bytes = this.#bytes;
    let at = this.#offset;
    const count = Math.min(countMax, this.#entriesLeft);
    for (let walked = 0; walked < count; walked++) {
      const keyAt = at;
      at += 4 + bytes.readUInt32LE(at);
      sink(keyAt, expiryOf(bytes, at));
      const code = bytes[at + valueTypeAt]!;
      at += valueAt;
      if (code === valueTypeCodes.string) {
        at += 4 + bytes.readUInt32LE(at);
        continue;
      }
      const fieldsPerItem = code === valueTypeCodes.hash ? 2 : 1;
      let fields = bytes.readUInt32LE(at) * fieldsPerItem;
      for (at += 4; fields > 0; fields--) at += 4 + bytes.readUInt32LE(at);
    }
    this.#offset = at;
    this.#entriesLeft -= count;
  }

  /** The record starting at `record` (just past its key's name), decoded. */
  entryAt(record: number): KvEntry {
    const bytes = this.#bytes;
    const code = bytes[record + valueTypeAt]!;
    let value: KvValue;
    if (code === valueTypeCodes.string) {
      const start = record + stringBytesAt;
      value = {
        type: 'string',
        value: bytes.subarray(start, start + bytes.readUInt32LE(record + valueAt)),
      };
    } else {
      value = readCollection(new ImageReader(bytes, record + valueAt), code);
    }
    return {
      value,
      expiresAtMs: expiryOf(bytes, record),
      modifiedIndex: bytes.readDoubleLE(record + modifiedIndexAt),
    };
  }

  /** The expiry of the record starting at `record`, read without decoding it. */
  expiresAt(record: number): number | null {
    return expiryOf(this.#bytes, record);
  }

  /** The remembered deletions, oldest first; read once every entry has been. */
  tombstones(): [string, number][] {
    if (!this.done) throw new Error('keyspace snapshot tombstones read before its entries');
    const reader = new ImageReader(this.#bytes, this.#offset);
    const tombstones: [string, number][] = [];
    for (let count = 0; count < this.#tombstoneCount; count++) {
      tombstones.push([reader.text(), reader.f64()]);
    }
    return tombstones;
  }
}

/**
 * Opens what {@link encodeKeyspaceImage} wrote, checked whole, for decoding piece by piece; the
 * older JSON format is decoded at once. Throws on anything else.
 */
export async function openKeyspaceImage(
  chunks: AsyncIterable<Uint8Array>,
): Promise<KeyspaceImageDecoder | KeyspaceImage> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  if (bytes[0] === binaryFormatVersion) return new KeyspaceImageDecoder(bytes);
  if (bytes[0] !== '{'.charCodeAt(0)) {
    throw new Error(`unknown keyspace snapshot version ${String(bytes[0])}`);
  }
  return decodeJsonImage(bytes);
}

/** The first format: JSON with base64 values, as snapshots written before the binary one hold. */
function decodeJsonImage(bytes: Buffer): KeyspaceImage {
  const encoded = JSON.parse(bytes.toString('utf8')) as EncodedImage;
  if (encoded.version !== 1)
    throw new Error(`unknown keyspace snapshot version ${encoded.version}`);
  return {
    timeMs: encoded.timeMs,
    index: encoded.index,
    entries: encoded.entries.map(([key, entry]): [string, KvEntry] => [
      key,
      {
        value: decodeValue(entry.value),
        expiresAtMs: entry.expiresAtMs,
        modifiedIndex: entry.modifiedIndex,
      },
    ]),
    tombstones: encoded.tombstones,
    tombstoneFloorIndex: encoded.tombstoneFloorIndex,
  };
}
