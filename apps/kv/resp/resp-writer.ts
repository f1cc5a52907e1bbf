/**
 * RESP2 reply encoders. Each returns the complete bytes of one reply, so replies can be
 * concatenated in order and written with one socket call.
 */

const crlf = '\r\n';

/** `+OK`-style status reply; `text` must not contain CR or LF. */
export function simpleStringReply(text: string): Buffer {
  return Buffer.from(`+${text}${crlf}`, 'latin1');
}

/** The most common reply, encoded once. */
export const okReply: Buffer = simpleStringReply('OK');

/** An error reply. Redis clients read the first word as the error kind (`ERR`, `WRONGTYPE`…). */
export function errorReply(message: string): Buffer {
  return Buffer.from(`-${message.replace(/[\r\n]+/g, ' ')}${crlf}`, 'utf8');
}

/** A 64-bit signed integer reply. */
export function integerReply(value: number | bigint): Buffer {
  return Buffer.from(`:${value}${crlf}`, 'latin1');
}

/** The null bulk reply (a missing key). */
export const nullReply: Buffer = Buffer.from(`$-1${crlf}`, 'latin1');

/** A binary-safe bulk string reply; `null` is the null bulk reply. */
export function bulkReply(value: Uint8Array | string | null): Buffer {
  if (value === null) return nullReply;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([
    Buffer.from(`$${bytes.byteLength}${crlf}`, 'latin1'),
    bytes,
    Buffer.from(crlf, 'latin1'),
  ]);
}

/** An array of already-encoded replies. */
export function arrayReply(items: readonly Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.from(`*${items.length}${crlf}`, 'latin1'), ...items]);
}

/** A request as a client sends it: an array of bulk strings. */
export function encodeRequest(args: readonly (string | Uint8Array)[]): Buffer {
  return arrayReply(args.map((arg) => bulkReply(arg)));
}
