import { RaftError } from '../../core/errors.js';
import type { ApplyContext, SnapshotPosition, StateMachine } from '../../node/state-machine.js';
import type { KeyValueInput, KeyValueOutput } from '../linearizability/key-value-model.js';

/** A command of the {@link KeyValueStateMachine}; the same shape the linearizability model checks. */
export type KeyValueCommand = KeyValueInput;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes per chunk of a key-value snapshot: small, so that even a few keys take several. */
export const keyValueSnapshotChunkBytes = 256;

/** Turns a command into the bytes `propose` carries: JSON, so traces and logs stay readable. */
export function encodeKeyValueCommand(command: KeyValueCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

/** Reads a command back; throws `INVALID_MESSAGE` on bytes that are not one. */
export function decodeKeyValueCommand(bytes: Uint8Array): KeyValueCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new RaftError('INVALID_MESSAGE', 'key-value command is not JSON', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new RaftError('INVALID_MESSAGE', 'key-value command is not an object');
  }
  const { kind, key, value } = parsed as Record<string, unknown>;
  if (typeof key !== 'string') throw new RaftError('INVALID_MESSAGE', 'key must be a string');
  if (kind === 'get') return { kind, key };
  if ((kind === 'put' || kind === 'append') && typeof value === 'string') {
    return { kind, key, value };
  }
  throw new RaftError('INVALID_MESSAGE', `unknown key-value command ${String(kind)}`);
}

/**
 * Where a durable {@link KeyValueStateMachine} keeps its state: it outlives the process, like the
 * application's own database, and is updated in the same step as the applied index (one
 * transaction), so a restarted process neither loses nor re-applies an entry.
 */
export class KeyValueStore {
  readonly values = new Map<string, string>();
  appliedIndex = 0;
}

/**
 * A small replicated string store: `put` replaces a value, `append` adds to its end, `get` reads it
 * through the log (a missing key reads as the empty string). Writes answer `null`, reads answer the
 * value. It snapshots and restores, so the simulator's runs compact their logs and send snapshots.
 * It is the simulator's default workload and the example in the testing guide.
 */
export class KeyValueStateMachine implements StateMachine<KeyValueOutput, string, string> {
  readonly #store: KeyValueStore;

  /**
   * Present only for a durable store: the index its state reflects, so a restarted node resumes
   * applying after it instead of from the start of the log.
   */
  readonly appliedIndex?: () => number;

  /**
   * Keeps its state in memory (lost with the process) unless given a `store` that outlives it.
   */
  constructor(store?: KeyValueStore) {
    this.#store = store ?? new KeyValueStore();
    if (store !== undefined) this.appliedIndex = () => store.appliedIndex;
  }

  /** The last index applied (in memory only: a restarted process applies everything again). */
  get lastAppliedIndex(): number {
    return this.#store.appliedIndex;
  }

  apply(command: Uint8Array, context: ApplyContext): KeyValueOutput {
    const decoded = decodeKeyValueCommand(command);
    this.#store.appliedIndex = context.index;
    if (decoded.kind === 'get') return this.read(decoded.key);
    const values = this.#store.values;
    const current = values.get(decoded.key) ?? '';
    values.set(decoded.key, decoded.kind === 'put' ? decoded.value : current + decoded.value);
    return null;
  }

  skip(context: ApplyContext): void {
    this.#store.appliedIndex = context.index;
  }

  /** Answers `read` calls (and `get` commands): the value of `key`, empty when missing. */
  query(key: string): string {
    return this.read(key);
  }

  /**
   * The read path, separate so that a test can replace it: a buggy subclass that serves stale
   * values shows what the linearizability checker catches.
   */
  protected read(key: string): string {
    return this.#store.values.get(key) ?? '';
  }

  /**
   * Every key and value as JSON, serialized now (later writes must not leak into it), in chunks
   * of {@link keyValueSnapshotChunkBytes} so that restoring exercises a stream of several.
   */
  snapshot(): Uint8Array[] {
    const bytes = encoder.encode(JSON.stringify([...this.#store.values]));
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < bytes.byteLength; offset += keyValueSnapshotChunkBytes) {
      chunks.push(bytes.subarray(offset, offset + keyValueSnapshotChunkBytes));
    }
    return chunks;
  }

  /** Replaces every key and value with the snapshot's; a durable store records its index too. */
  async restore(chunks: AsyncIterable<Uint8Array>, snapshot: SnapshotPosition): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    let total = 0;
    for (const part of parts) total += part.byteLength;
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    const entries = JSON.parse(decoder.decode(bytes)) as [string, string][];
    this.#store.values.clear();
    for (const [key, value] of entries) this.#store.values.set(key, value);
    this.#store.appliedIndex = snapshot.index;
  }

  /** A copy of every key and value, for assertions. */
  entries(): Map<string, string> {
    return new Map(this.#store.values);
  }
}
