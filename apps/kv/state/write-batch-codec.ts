/**
 * The log entry format of the key-value store: one entry carries a batch of write operations (all
 * the pipelined writes of one connection) and the wall-clock time of the server that proposed it.
 *
 * Layout (big-endian): version u8 · timeMs f64 · operation count u32 · per operation: argument
 * count u32 · per argument: byte length u32, bytes. Arguments are exactly what the client sent,
 * with the command name upper-cased.
 */

/** Bump when the layout changes; old entries stay readable by keeping their decoder. */
const formatVersion = 1;

/** A batch as it travels through the log. */
export interface WriteBatch {
  /** The proposing server's clock in milliseconds since the epoch; 0 when it carries none. */
  readonly timeMs: number;
  /** Each operation is a full request: command name, then its arguments. */
  readonly operations: readonly (readonly Uint8Array[])[];
}

/** Limits the decoder enforces, so a damaged entry throws instead of allocating wildly. */
export interface WriteBatchLimits {
  readonly operationsMax: number;
  readonly argumentsMax: number;
}

export const defaultWriteBatchLimits: WriteBatchLimits = Object.freeze({
  operationsMax: 65_536,
  argumentsMax: 65_536,
});

const headerBytes = 1 + 8 + 4;

/** Bytes {@link encodeWriteBatch} will produce for one operation. */
export function encodedOperationBytes(operation: readonly Uint8Array[]): number {
  let bytes = 4;
  for (const argument of operation) bytes += 4 + argument.byteLength;
  return bytes;
}

/** Bytes of an encoded batch with no operations. */
export const emptyBatchBytes = headerBytes;

export function encodeWriteBatch(batch: WriteBatch): Uint8Array {
  let total = headerBytes;
  for (const operation of batch.operations) total += encodedOperationBytes(operation);
  const bytes = Buffer.allocUnsafe(total);
  bytes.writeUInt8(formatVersion, 0);
  bytes.writeDoubleBE(batch.timeMs, 1);
  bytes.writeUInt32BE(batch.operations.length, 9);
  let offset = headerBytes;
  for (const operation of batch.operations) {
    bytes.writeUInt32BE(operation.length, offset);
    offset += 4;
    for (const argument of operation) {
      bytes.writeUInt32BE(argument.byteLength, offset);
      offset += 4;
      bytes.set(argument, offset);
      offset += argument.byteLength;
    }
  }
  return bytes;
}

/** Decodes an entry; throws on anything malformed (a log entry the store never wrote). */
export function decodeWriteBatch(
  data: Uint8Array,
  limits: WriteBatchLimits = defaultWriteBatchLimits,
): WriteBatch {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < headerBytes) throw new Error('write batch: truncated header');
  const version = bytes.readUInt8(0);
  if (version !== formatVersion) throw new Error(`write batch: unknown version ${version}`);
  const timeMs = bytes.readDoubleBE(1);
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new Error('write batch: invalid time');
  const count = bytes.readUInt32BE(9);
  if (count > limits.operationsMax) throw new Error('write batch: too many operations');
  const operations: Uint8Array[][] = [];
  let offset = headerBytes;
  const need = (length: number): void => {
    if (offset + length > bytes.length) throw new Error('write batch: truncated');
  };
  for (let position = 0; position < count; position++) {
    need(4);
    const argumentCount = bytes.readUInt32BE(offset);
    offset += 4;
    if (argumentCount === 0 || argumentCount > limits.argumentsMax) {
      throw new Error('write batch: invalid argument count');
    }
    const operation: Uint8Array[] = [];
    for (let argument = 0; argument < argumentCount; argument++) {
      need(4);
      const length = bytes.readUInt32BE(offset);
      offset += 4;
      need(length);
      operation.push(bytes.subarray(offset, offset + length));
      offset += length;
    }
    operations.push(operation);
  }
  if (offset !== bytes.length) throw new Error('write batch: trailing bytes');
  return { timeMs, operations };
}
