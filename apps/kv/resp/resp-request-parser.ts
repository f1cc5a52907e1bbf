import { RespProtocolError } from './resp-protocol-error.js';

/** Size limits of one client request; anything larger closes the connection. */
export interface RespRequestLimits {
  /** Bytes of one request: every argument plus the framing around it. */
  readonly requestBytesMax: number;
  /** Arguments in one request, the command name included. */
  readonly argumentsMax: number;
  /** Bytes of one inline (space-separated, telnet-style) request line. */
  readonly inlineBytesMax: number;
}

/** Defaults that let one request fit into one Raft log entry of the default size. */
export const respRequestDefaults: RespRequestLimits = Object.freeze({
  requestBytesMax: 512 * 1024,
  argumentsMax: 65_536,
  inlineBytesMax: 64 * 1024,
});

/** Longest `*<count>` or `$<length>` header line; 20 digits hold any 64-bit number. */
const headerLineBytesMax = 32;

/** Digits in the longest number a header may hold (as many as a 64-bit number). */
const headerDigitsMax = 19;
/** What {@link RespRequestParser} reads from a header line that has not all arrived. */
const headerIncomplete = -Infinity;

const asterisk = 0x2a;
const dollar = 0x24;
const minus = 0x2d;
const digitZero = 0x30;
const digitNine = 0x39;
const carriageReturn = 0x0d;
const lineFeed = 0x0a;

/** What one chunk yielded. */
export interface ParseResult {
  readonly requests: Buffer[][];
  readonly error: RespProtocolError | null;
}

/** One parse attempt: the request and where it ended, or how many bytes it needs at least. */
type Attempt =
  | { readonly kind: 'request'; readonly args: Buffer[]; readonly end: number }
  | { readonly kind: 'skip'; readonly end: number }
  | { readonly kind: 'incomplete'; readonly needed: number };

/**
 * Turns a byte stream from a client into requests (each a list of arguments), whatever the chunk
 * boundaries. Accepts RESP2 arrays of bulk strings and inline commands. Malformed or oversized
 * input throws {@link RespProtocolError}; the caller closes the connection, since the stream can
 * no longer be framed.
 *
 * Bytes are buffered only while a request is incomplete, and a new parse is attempted only once
 * enough bytes have arrived to make progress, so a large value arriving in many chunks is copied
 * a bounded number of times.
 */
export class RespRequestParser {
  readonly #limits: RespRequestLimits;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  /** Buffered bytes needed before the next parse attempt can make progress. */
  #neededBytes = 1;
  #failed = false;
  /** Where the header line {@link #readHeader} read last ends. */
  #headerEnd = 0;

  constructor(limits: Partial<RespRequestLimits> = {}) {
    this.#limits = { ...respRequestDefaults, ...limits };
  }

  /** Bytes received but not yet part of a complete request. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /**
   * Feeds one chunk; returns every request it completed, in order, and the protocol error that
   * stopped parsing, if any. Requests before the error are valid and should be answered; after
   * an error every further push fails.
   */
  push(chunk: Uint8Array): ParseResult {
    if (this.#failed) {
      return { requests: [], error: new RespProtocolError('the stream already failed to parse') };
    }
    if (chunk.byteLength === 0) return { requests: [], error: null };
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#bufferedBytes += chunk.byteLength;
    if (this.#bufferedBytes < this.#neededBytes) return { requests: [], error: null };
    const buffer =
      this.#chunks.length === 1
        ? this.#chunks[0]!
        : Buffer.concat(this.#chunks, this.#bufferedBytes);
    const requests: Buffer[][] = [];
    let offset = 0;
    try {
      while (offset < buffer.length) {
        const attempt = this.#parseOne(buffer, offset);
        if (attempt.kind === 'incomplete') {
          this.#neededBytes = attempt.needed - offset;
          break;
        }
        if (attempt.kind === 'request') requests.push(attempt.args);
        offset = attempt.end;
        this.#neededBytes = 1;
      }
    } catch (error) {
      if (!(error instanceof RespProtocolError)) throw error;
      this.#failed = true;
      this.#chunks = [];
      this.#bufferedBytes = 0;
      return { requests, error };
    }
    const rest = buffer.subarray(offset);
    // Copy a small remainder so the large chunk it came from can be collected.
    this.#chunks = rest.length === 0 ? [] : [rest.length < 4096 ? Buffer.from(rest) : rest];
    this.#bufferedBytes = rest.length;
    if (rest.length === 0) this.#neededBytes = 1;
    return { requests, error: null };
  }

  #parseOne(buffer: Buffer, start: number): Attempt {
    return buffer[start] === asterisk
      ? this.#parseArray(buffer, start)
      : this.#parseInline(buffer, start);
  }

  #parseArray(buffer: Buffer, start: number): Attempt {
    const count = this.#readHeader(buffer, start + 1, 'multibulk');
    if (count === headerIncomplete) return { kind: 'incomplete', needed: buffer.length + 1 };
    if (count <= 0) return { kind: 'skip', end: this.#headerEnd };
    if (count > this.#limits.argumentsMax) {
      throw new RespProtocolError(`too many arguments (${count} > ${this.#limits.argumentsMax})`);
    }
    const args: Buffer[] = [];
    let offset = this.#headerEnd;
    for (let position = 0; position < count; position++) {
      if (offset >= buffer.length) return { kind: 'incomplete', needed: offset + 1 };
      if (buffer[offset] !== dollar) {
        throw new RespProtocolError(`expected '$', got '${String.fromCharCode(buffer[offset]!)}'`);
      }
      const length = this.#readHeader(buffer, offset + 1, 'bulk');
      if (length === headerIncomplete) return { kind: 'incomplete', needed: buffer.length + 1 };
      if (length < 0) throw new RespProtocolError('invalid bulk length');
      const valueStart = this.#headerEnd;
      const end = valueStart + length + 2;
      if (end - start > this.#limits.requestBytesMax) {
        throw new RespProtocolError(`request larger than ${this.#limits.requestBytesMax} bytes`);
      }
      if (end > buffer.length) return { kind: 'incomplete', needed: end };
      if (buffer[end - 2] !== carriageReturn || buffer[end - 1] !== lineFeed) {
        throw new RespProtocolError('bulk string not terminated by CRLF');
      }
      // A view, not a copy: Node hands each read its own buffer of just the bytes read, and
      // nothing writes to it, so an argument pins no more than the request it came in. A copy
      // per argument was a third of the parse.
      args.push(buffer.subarray(valueStart, end - 2));
      offset = end;
    }
    return { kind: 'request', args, end: offset };
  }

  /**
   * Reads a decimal number terminated by CRLF at `offset`, and leaves where the line ends in
   * {@link #headerEnd}; {@link headerIncomplete} when the line has not all arrived. Rejects signs
   * other than a leading minus, non-digits, empty and over-long lines. Reads the digits in place:
   * a string and a regular expression per header were most of the parse.
   */
  #readHeader(buffer: Buffer, offset: number, what: 'multibulk' | 'bulk'): number {
    const searchEnd = Math.min(buffer.length, offset + headerLineBytesMax);
    let position = offset;
    const negative = position < searchEnd && buffer[position] === minus;
    if (negative) position++;
    const digitsStart = position;
    let value = 0;
    while (position < searchEnd) {
      const byte = buffer[position]!;
      if (byte === carriageReturn) break;
      if (byte < digitZero || byte > digitNine || position - digitsStart === headerDigitsMax) {
        throw new RespProtocolError(`invalid ${what} length`);
      }
      value = value * 10 + (byte - digitZero);
      position++;
    }
    if (position === searchEnd) {
      if (buffer.length - offset >= headerLineBytesMax) {
        throw new RespProtocolError(`invalid ${what} length`);
      }
      return headerIncomplete;
    }
    if (position + 1 >= buffer.length) return headerIncomplete;
    if (buffer[position + 1] !== lineFeed || position === digitsStart) {
      throw new RespProtocolError(`invalid ${what} length`);
    }
    if (!Number.isSafeInteger(value)) throw new RespProtocolError(`invalid ${what} length`);
    this.#headerEnd = position + 2;
    return negative ? -value : value;
  }

  #parseInline(buffer: Buffer, start: number): Attempt {
    const limit = Math.min(buffer.length, start + this.#limits.inlineBytesMax + 2);
    const newline = buffer.indexOf(lineFeed, start);
    if (newline < 0 || newline >= limit) {
      if (buffer.length - start > this.#limits.inlineBytesMax) {
        throw new RespProtocolError('inline request too long');
      }
      return { kind: 'incomplete', needed: buffer.length + 1 };
    }
    const lineEnd =
      newline > start && buffer[newline - 1] === carriageReturn ? newline - 1 : newline;
    const line = buffer.subarray(start, lineEnd).toString('latin1');
    const args = splitInline(line);
    if (args.length > this.#limits.argumentsMax) {
      throw new RespProtocolError('too many arguments');
    }
    if (args.length === 0) return { kind: 'skip', end: newline + 1 };
    return {
      kind: 'request',
      args: args.map((arg) => Buffer.from(arg, 'latin1')),
      end: newline + 1,
    };
  }
}

/** Splits an inline request the way Redis does: spaces separate, double or single quotes group. */
function splitInline(line: string): string[] {
  const args: string[] = [];
  let position = 0;
  while (position < line.length) {
    while (position < line.length && (line[position] === ' ' || line[position] === '\t')) {
      position++;
    }
    if (position >= line.length) break;
    const quote = line[position];
    if (quote === '"' || quote === "'") {
      const close = line.indexOf(quote, position + 1);
      if (close < 0) throw new RespProtocolError('unbalanced quotes in request');
      args.push(line.slice(position + 1, close));
      position = close + 1;
      continue;
    }
    let end = position;
    while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end++;
    args.push(line.slice(position, end));
    position = end;
  }
  return args;
}
