import { RespProtocolError } from './resp-protocol-error.js';

/** Arrays nested in arrays, at most; EXEC's replies are the deepest the server makes (two). */
const depthMax = 16;

/**
 * Cuts concatenated RESP2 replies into consecutive groups of `counts[i]` replies each, without
 * decoding them: the replies of one proposal that carried several connections' writes go back to
 * their connections. Throws {@link RespProtocolError} when the bytes do not hold exactly that many
 * well-framed replies.
 */
export function splitReplies(bytes: Uint8Array, counts: readonly number[]): Uint8Array[] {
  const groups: Uint8Array[] = [];
  let offset = 0;
  for (const count of counts) {
    const start = offset;
    for (let reply = 0; reply < count; reply++) offset = replyEnd(bytes, offset, 0);
    groups.push(bytes.subarray(start, offset));
  }
  if (offset !== bytes.length) {
    throw new RespProtocolError(`${bytes.length - offset} bytes after the expected replies`);
  }
  return groups;
}

/** Where the reply that starts at `offset` ends. */
function replyEnd(bytes: Uint8Array, offset: number, depth: number): number {
  if (offset >= bytes.length) throw new RespProtocolError('fewer replies than operations');
  const lineEnd = endOfLine(bytes, offset + 1);
  const type = bytes[offset];
  // '+' status, '-' error, ':' integer: the line is the whole reply.
  if (type === 0x2b || type === 0x2d || type === 0x3a) return lineEnd;
  const length = lengthOf(bytes, offset + 1, lineEnd - 2);
  if (type === 0x24) {
    // '$' bulk string: its bytes and a CRLF follow, unless it is the null bulk ($-1).
    if (length < 0) return lineEnd;
    const end = lineEnd + length + 2;
    if (end > bytes.length) throw new RespProtocolError('bulk reply cut short');
    return end;
  }
  if (type === 0x2a) {
    // '*' array: its elements follow, unless it is the null array (*-1).
    if (depth >= depthMax) throw new RespProtocolError('arrays nested too deeply');
    let end = lineEnd;
    for (let element = 0; element < length; element++) end = replyEnd(bytes, end, depth + 1);
    return end;
  }
  throw new RespProtocolError(`unexpected reply type ${String(type)}`);
}

/** The offset just past the CRLF that ends the line starting at `from`. */
function endOfLine(bytes: Uint8Array, from: number): number {
  const newline = bytes.indexOf(0x0a, from);
  if (newline < 1 || bytes[newline - 1] !== 0x0d) {
    throw new RespProtocolError('reply line not terminated by CRLF');
  }
  return newline + 1;
}

/** The decimal length (or -1 for null) written between `from` and `to`. */
function lengthOf(bytes: Uint8Array, from: number, to: number): number {
  let text = '';
  for (let position = from; position < to; position++)
    text += String.fromCharCode(bytes[position]!);
  if (!/^(-1|\d{1,10})$/.test(text)) throw new RespProtocolError(`invalid length '${text}'`);
  return Number(text);
}
