/**
 * The log entry format of the key-value store: one entry carries a batch of write operations (all
 * the pipelined writes of one connection, or a whole MULTI … EXEC transaction) and the wall-clock
 * time of the server that proposed it.
 *
 * Layout (big-endian): version u8 · timeMs f64 · operation count u32 · operations.
 * - Version 1 (every batch without a transaction, so older servers still read them): each
 *   operation is a command: argument count u32 · per argument: byte length u32, bytes.
 * - Version 2: each operation starts with a tag u8 — 0: a command as above; 1: a transaction:
 *   watched key count u32 · per watched key: log index f64 · key length u32, key bytes ·
 *   command count u32 · the commands as above.
 *
 * Arguments are exactly what the client sent, with the command name upper-cased.
 */

/** One command: its name, then its arguments. */
export type CommandArguments = readonly Uint8Array[];

/** A key a transaction depends on, and the log index at which the client looked at it. */
export interface WatchedKey {
  readonly key: Uint8Array;
  readonly index: number;
}

/** One operation of a batch. */
export type WriteOperation =
  | { readonly kind: 'command'; readonly args: CommandArguments }
  | {
      readonly kind: 'transaction';
      /** The transaction aborts if any of these keys changed after its index. */
      readonly watched: readonly WatchedKey[];
      readonly commands: readonly CommandArguments[];
    };

/** A batch as it travels through the log. */
export interface WriteBatch {
  /** The proposing server's clock in milliseconds since the epoch; 0 when it carries none. */
  readonly timeMs: number;
  readonly operations: readonly WriteOperation[];
}

/** Limits the decoder enforces, so a damaged entry throws instead of allocating wildly. */
export interface WriteBatchLimits {
  readonly operationsMax: number;
  readonly argumentsMax: number;
}

export const writeBatchDefaults: WriteBatchLimits = Object.freeze({
  operationsMax: 65_536,
  argumentsMax: 65_536,
});

const plainVersion = 1;
const taggedVersion = 2;
const commandTag = 0;
const transactionTag = 1;
const headerBytes = 1 + 8 + 4;

function commandBytes(args: CommandArguments): number {
  let bytes = 4;
  for (const argument of args) bytes += 4 + argument.byteLength;
  return bytes;
}

/** Bytes {@link encodeWriteBatch} produces for one operation at most (tag included). */
export function encodedOperationBytes(operation: WriteOperation): number {
  if (operation.kind === 'command') return 1 + commandBytes(operation.args);
  let bytes = 1 + 4 + 4;
  for (const watched of operation.watched) bytes += 8 + 4 + watched.key.byteLength;
  for (const command of operation.commands) bytes += commandBytes(command);
  return bytes;
}

/** Bytes of an encoded batch with no operations. */
export const emptyBatchBytes = headerBytes;

/** Writes one batch; see the layout above. */
export function encodeWriteBatch(batch: WriteBatch): Uint8Array {
  // Plain loops and a module-level writer rather than `some` and a closure: this runs once per
  // write on the leader, and a closure made per call was a visible part of its cost.
  let tagged = false;
  for (const operation of batch.operations) tagged ||= operation.kind === 'transaction';
  let total = headerBytes;
  for (const operation of batch.operations) {
    total += encodedOperationBytes(operation) - (tagged ? 0 : 1);
  }
  const bytes = Buffer.allocUnsafe(total);
  bytes.writeUInt8(tagged ? taggedVersion : plainVersion, 0);
  bytes.writeDoubleBE(batch.timeMs, 1);
  bytes.writeUInt32BE(batch.operations.length, 9);
  let offset = headerBytes;
  for (const operation of batch.operations) {
    if (operation.kind === 'command') {
      if (tagged) offset = bytes.writeUInt8(commandTag, offset);
      offset = writeCommand(bytes, offset, operation.args);
      continue;
    }
    offset = bytes.writeUInt8(transactionTag, offset);
    offset = bytes.writeUInt32BE(operation.watched.length, offset);
    for (const watched of operation.watched) {
      offset = bytes.writeDoubleBE(watched.index, offset);
      offset = bytes.writeUInt32BE(watched.key.byteLength, offset);
      bytes.set(watched.key, offset);
      offset += watched.key.byteLength;
    }
    offset = bytes.writeUInt32BE(operation.commands.length, offset);
    for (const command of operation.commands) offset = writeCommand(bytes, offset, command);
  }
  return offset === bytes.length ? bytes : bytes.subarray(0, offset);
}

/** Writes one command's arguments at `offset`; returns the offset after them. */
function writeCommand(bytes: Buffer, offset: number, args: CommandArguments): number {
  let at = bytes.writeUInt32BE(args.length, offset);
  for (const argument of args) {
    at = bytes.writeUInt32BE(argument.byteLength, at);
    bytes.set(argument, at);
    at += argument.byteLength;
  }
  return at;
}

/** Reads a batch's bytes front to back, throwing on anything out of bounds. */
class BatchReader {
  #offset = headerBytes;

  constructor(
    readonly bytes: Buffer,
    readonly limits: WriteBatchLimits,
  ) {}

  get done(): boolean {
    return this.#offset === this.bytes.length;
  }

  #need(length: number): void {
    if (this.#offset + length > this.bytes.length) throw new Error('write batch: truncated');
  }

  u8(): number {
    this.#need(1);
    return this.bytes.readUInt8(this.#offset++);
  }

  u32(): number {
    this.#need(4);
    const value = this.bytes.readUInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  f64(): number {
    this.#need(8);
    const value = this.bytes.readDoubleBE(this.#offset);
    this.#offset += 8;
    return value;
  }

  slice(): Uint8Array {
    const length = this.u32();
    this.#need(length);
    const slice = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }

  count(): number {
    const count = this.u32();
    if (count > this.limits.operationsMax) throw new Error('write batch: too many operations');
    return count;
  }

  command(): Uint8Array[] {
    const argumentCount = this.u32();
    if (argumentCount === 0 || argumentCount > this.limits.argumentsMax) {
      throw new Error('write batch: invalid argument count');
    }
    const args: Uint8Array[] = new Array<Uint8Array>(argumentCount);
    for (let position = 0; position < argumentCount; position++) args[position] = this.slice();
    return args;
  }

  transaction(): WriteOperation {
    const watched = Array.from({ length: this.count() }, () => {
      const index = this.f64();
      if (!Number.isSafeInteger(index) || index < 0) throw new Error('write batch: invalid index');
      return { index, key: this.slice() };
    });
    const commands = Array.from({ length: this.count() }, () => this.command());
    return { kind: 'transaction', watched, commands };
  }
}

/** Decodes an entry; throws on anything malformed (a log entry the store never wrote). */
export function decodeWriteBatch(
  data: Uint8Array,
  limits: WriteBatchLimits = writeBatchDefaults,
): WriteBatch {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < headerBytes) throw new Error('write batch: truncated header');
  const version = bytes.readUInt8(0);
  if (version !== plainVersion && version !== taggedVersion) {
    throw new Error(`write batch: unknown version ${version}`);
  }
  const timeMs = bytes.readDoubleBE(1);
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new Error('write batch: invalid time');
  const count = bytes.readUInt32BE(9);
  if (count > limits.operationsMax) throw new Error('write batch: too many operations');
  const reader = new BatchReader(bytes, limits);
  const operations: WriteOperation[] = [];
  for (let position = 0; position < count; position++) {
    const tag = version === plainVersion ? commandTag : reader.u8();
    if (tag === commandTag) operations.push({ kind: 'command', args: reader.command() });
    else if (tag === transactionTag) operations.push(reader.transaction());
    else throw new Error(`write batch: unknown operation tag ${tag}`);
  }
  if (!reader.done) throw new Error('write batch: trailing bytes');
  return { timeMs, operations };
}
