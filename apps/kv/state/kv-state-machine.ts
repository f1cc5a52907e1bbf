import type { ApplyContext, StateMachine } from 'raftkit';
import { arrayReply, errorReply, integerReply } from '../resp/resp-writer.js';
import { CommandError, keyOf } from './arguments.js';
import { dataCommandSpec } from './kv-commands.js';
import { Keyspace } from './keyspace.js';
import { queuedConnectionCommand } from './queued-connection-commands.js';
import { KeyspaceImageDecoder, encodeKeyspaceImage, openKeyspaceImage } from './keyspace-codec.js';
import { KeyspaceRestore } from './keyspace-restore.js';
import {
  decodeWriteBatch,
  type CommandArguments,
  type WriteOperation,
} from './write-batch-codec.js';

/** A read: one or more read operations, answered together against one state. */
export interface KvReadQuery {
  readonly operations: readonly CommandArguments[];
}

/**
 * The read that WATCH performs: it answers with the index of the last entry applied, the moment
 * against which the transaction's keys are later checked. Not a client command.
 */
export const watchQueryName = 'WATCH';

/** The reply of a transaction that a WATCHed key aborted (RESP2's null array). */
const abortedTransactionReply = Buffer.from('*-1\r\n', 'latin1');

/**
 * The replicated key-value state. Applying a batch returns the RESP replies of its operations,
 * concatenated in order, so they can be written to the client as they are.
 *
 * Time is replicated too: each entry carries its proposer's clock and the store's time is the
 * greatest one applied so far. Expiry is judged only by that time, so every server expires the
 * same keys at the same point of the log, whatever its own clock says.
 *
 * A transaction is one operation of one entry: all its commands run, in order, with nothing in
 * between, on every server. Its WATCHed keys are checked here, at apply time, against the index
 * at which the client looked at them, so every server reaches the same verdict.
 */
export class KvStateMachine implements StateMachine<Uint8Array, KvReadQuery, Uint8Array> {
  readonly #keyspace = new Keyspace();
  readonly #backgroundLoadAfter: () => Promise<void>;
  /** A restore still loading keys in the background; see {@link restore}. */
  #restoring: KeyspaceRestore | null = null;

  /**
   * `backgroundLoadAfter`: asked at each restore, the moment from which its keys load in the
   * background (by default at once; the KV server waits until it is connected to its peers).
   * Whatever needs the keys sooner loads them then.
   */
  constructor(options: { readonly backgroundLoadAfter?: () => Promise<void> } = {}) {
    this.#backgroundLoadAfter = options.backgroundLoadAfter ?? (() => Promise.resolve());
  }

  /** The data: plain values that a snapshot can serialize. Finishes a restore under way. */
  get keyspace(): Keyspace {
    if (this.#restoring !== null) {
      this.#restoring.finish();
      this.#restoring = null;
    }
    return this.#keyspace;
  }

  // The three counters below are known from a restoring image's header and check: reading them
  // (metrics, the clock-entry timer) does not force the restore to finish.

  /** The replicated time: the greatest proposer clock applied so far, in ms since the epoch. */
  get replicatedTimeMs(): number {
    return this.#restoring?.timeMs ?? this.#keyspace.timeMs;
  }

  /** Live keys. */
  get size(): number {
    return this.#restoring?.size ?? this.#keyspace.size;
  }

  /** Live keys that carry an expiry. */
  get expiringKeys(): number {
    return this.#restoring?.expiringKeys ?? this.#keyspace.expiringKeys;
  }

  /** Whether keys of a restored snapshot are still loading in the background. */
  get restoring(): boolean {
    return this.#restoring?.loading ?? false;
  }

  apply(command: Uint8Array, context: ApplyContext): Uint8Array {
    const batch = decodeWriteBatch(command);
    this.keyspace.beginEntry(context.index, batch.timeMs);
    const replies = batch.operations.map((operation) => this.#operation(operation));
    return replies.length === 1 ? replies[0]! : Buffer.concat(replies);
  }

  skip(context: ApplyContext): void {
    // No key changes, but a WATCH answered now may cite this index. Time 0 never moves the clock,
    // so no key expires and a restore under way need not finish first: a new leader's first
    // entry does not stall every server on loading its keys.
    this.#keyspace.beginEntry(context.index, 0);
  }

  /**
   * The keyspace as it is now, serialized at once: a copy, so applying resumes while the chunks
   * are written out and sent.
   */
  snapshot(): Uint8Array[] {
    return encodeKeyspaceImage(this.keyspace.image());
  }

  /**
   * Replaces the keyspace with a snapshot's, replicated clock and expiry deadlines included.
   * Resolves once the image is read and checked whole; its keys then load a slice per turn of the
   * event loop (from `backgroundLoadAfter`), so a restarting server votes and accepts connections
   * meanwhile. The first apply, query or snapshot loads whatever is left before it runs.
   */
  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const image = await openKeyspaceImage(chunks);
    this.#restoring?.abandon();
    this.#restoring = null;
    if (image instanceof KeyspaceImageDecoder) {
      this.#restoring = new KeyspaceRestore(this.#keyspace, image, this.#backgroundLoadAfter());
      return;
    }
    // A freshly decoded image belongs to nobody else: its values are taken over, not copied.
    this.#keyspace.restore(image, { adopt: true });
  }

  query(query: KvReadQuery): Uint8Array {
    const replies = query.operations.map((operation) =>
      keyOf(operation[0]!) === watchQueryName
        ? integerReply(this.keyspace.index)
        : this.#run(operation),
    );
    return replies.length === 1 ? replies[0]! : Buffer.concat(replies);
  }

  #operation(operation: WriteOperation): Buffer {
    if (operation.kind === 'command') return this.#run(operation.args);
    const changed = operation.watched.some(({ key, index }) =>
      this.keyspace.modifiedAfter(keyOf(key), index),
    );
    if (changed) return abortedTransactionReply;
    // A command failing at run time (WRONGTYPE, a syntax error…) answers its error; the others
    // still run. Queuing checked only name and arity, as Redis does, so the rest is checked here.
    return arrayReply(operation.commands.map((args) => this.#runQueued(args)));
  }

  #runQueued(args: CommandArguments): Buffer {
    const name = keyOf(args[0]!);
    const connectionCommand = queuedConnectionCommand(name);
    if (connectionCommand !== undefined) return connectionCommand.reply(args);
    const problem = dataCommandSpec(name)?.check?.(args) ?? null;
    return problem === null ? this.#run(args) : errorReply(problem);
  }

  #run(args: CommandArguments): Buffer {
    const name = keyOf(args[0]!);
    const spec = dataCommandSpec(name);
    if (spec === undefined) {
      // Only a newer server version writes commands this one does not know; answering with an
      // error keeps every replica identical instead of stopping them all.
      return errorReply(`ERR unknown command '${name.toLowerCase()}'`);
    }
    try {
      return spec.run(this.keyspace, args);
    } catch (error) {
      if (error instanceof CommandError) return errorReply(error.message);
      throw error;
    }
  }
}
