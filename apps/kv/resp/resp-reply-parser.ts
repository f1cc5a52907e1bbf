import { RespProtocolError } from './resp-protocol-error.js';

/** One decoded reply from a server. */
export type RespValue =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'bulk'; readonly value: Buffer | null }
  | { readonly type: 'array'; readonly value: readonly RespValue[] | null };

/** Limits on what a server may send; a client is entitled to distrust it too. */
export interface RespReplyLimits {
  /** Bytes of one reply, nested arrays included. */
  readonly replyBytesMax: number;
  /** Elements of one array. */
  readonly arrayLengthMax: number;
  /** Arrays nested in arrays. */
  readonly depthMax: number;
}

/** Generous defaults for administration and test clients. */
export const respReplyDefaults: RespReplyLimits = Object.freeze({
  replyBytesMax: 64 * 1024 * 1024,
  arrayLengthMax: 1_048_576,
  depthMax: 16,
});

/** Longest status, error or integer line accepted. */
const lineBytesMax = 64 * 1024;

type Step = { readonly value: RespValue; readonly end: number } | null;

/**
 * Decodes a stream of RESP2 replies, whatever the chunk boundaries. Throws
 * {@link RespProtocolError} on malformed input.
 */
export class RespReplyParser {
  readonly #limits: RespReplyLimits;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(limits: Partial<RespReplyLimits> = {}) {
    this.#limits = { ...respReplyDefaults, ...limits };
  }

  /** Feeds one chunk; returns every reply it completed, in order. */
  push(chunk: Uint8Array): RespValue[] {
    this.#buffer =
      this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    const values: RespValue[] = [];
    let offset = 0;
    for (;;) {
      const step = this.#parse(offset, 0, offset);
      if (step === null) break;
      values.push(step.value);
      offset = step.end;
    }
    this.#buffer = this.#buffer.subarray(offset);
    if (this.#buffer.length > this.#limits.replyBytesMax) {
      throw new RespProtocolError(`reply larger than ${this.#limits.replyBytesMax} bytes`);
    }
    return values;
  }

  #parse(offset: number, depth: number, start: number): Step {
    const buffer = this.#buffer;
    if (offset >= buffer.length) return null;
    const line = readLine(buffer, offset + 1);
    if (line === null) return null;
    const prefix = String.fromCharCode(buffer[offset]!);
    switch (prefix) {
      case '+':
        return { value: { type: 'simple', value: line.text }, end: line.end };
      case '-':
        return { value: { type: 'error', message: line.text }, end: line.end };
      case ':':
        return { value: { type: 'integer', value: parseInteger(line.text) }, end: line.end };
      case '$':
        return this.#parseBulk(line, start);
      case '*':
        return this.#parseArray(line, depth, start);
      default:
        throw new RespProtocolError(`unexpected reply type '${prefix}'`);
    }
  }

  #parseBulk(line: { text: string; end: number }, start: number): Step {
    const length = Number(parseInteger(line.text));
    if (length === -1) return { value: { type: 'bulk', value: null }, end: line.end };
    if (length < 0) throw new RespProtocolError('invalid bulk length');
    const end = line.end + length + 2;
    if (end - start > this.#limits.replyBytesMax) {
      throw new RespProtocolError(`reply larger than ${this.#limits.replyBytesMax} bytes`);
    }
    if (end > this.#buffer.length) return null;
    if (this.#buffer[end - 2] !== 0x0d || this.#buffer[end - 1] !== 0x0a) {
      throw new RespProtocolError('bulk string not terminated by CRLF');
    }
    const value = Buffer.from(this.#buffer.subarray(line.end, end - 2));
    return { value: { type: 'bulk', value }, end };
  }

  #parseArray(line: { text: string; end: number }, depth: number, start: number): Step {
    const length = Number(parseInteger(line.text));
    if (length === -1) return { value: { type: 'array', value: null }, end: line.end };
    if (length < 0 || length > this.#limits.arrayLengthMax) {
      throw new RespProtocolError('invalid array length');
    }
    if (depth >= this.#limits.depthMax) throw new RespProtocolError('arrays nested too deeply');
    const items: RespValue[] = [];
    let offset = line.end;
    for (let position = 0; position < length; position++) {
      const step = this.#parse(offset, depth + 1, start);
      if (step === null) return null;
      items.push(step.value);
      offset = step.end;
    }
    return { value: { type: 'array', value: items }, end: offset };
  }
}

function readLine(buffer: Buffer, offset: number): { text: string; end: number } | null {
  const newline = buffer.indexOf(0x0a, offset);
  if (newline < 0) {
    if (buffer.length - offset > lineBytesMax) throw new RespProtocolError('reply line too long');
    return null;
  }
  if (newline === offset || buffer[newline - 1] !== 0x0d) {
    throw new RespProtocolError('reply line not terminated by CRLF');
  }
  return { text: buffer.subarray(offset, newline - 1).toString('utf8'), end: newline + 1 };
}

function parseInteger(text: string): bigint {
  if (!/^-?\d{1,20}$/.test(text)) throw new RespProtocolError(`invalid integer '${text}'`);
  return BigInt(text);
}
