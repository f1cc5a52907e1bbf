import type { LogStorage, SaveBatch } from '../../storage/log-storage.js';
import type { Message } from '../../transport/transport.js';
import type { ApplyContext } from '../../node/state-machine.js';
import type { KeyValueOutput } from '../linearizability/key-value-model.js';
import { KeyValueStateMachine, decodeKeyValueCommand } from './key-value-state-machine.js';

/** `storage` with its `save` replaced: the injected bugs below differ only there. */
function withSave(storage: LogStorage, save: (batch: SaveBatch) => Promise<void>): LogStorage {
  return {
    open: () => storage.open(),
    bootstrap: (snapshot, hardState) => storage.bootstrap(snapshot, hardState),
    save,
    entries: (from, to) => storage.entries(from, to),
    compact: (snapshot) => storage.compact(snapshot),
    latestSnapshot: () => storage.latestSnapshot(),
    createSnapshot: (meta) => storage.createSnapshot(meta),
    readSnapshot: (index, offset, bytesMax) => storage.readSnapshot(index, offset, bytesMax),
    setBroken: (reason) => storage.setBroken(reason),
    close: () => storage.close(),
  };
}

/**
 * A storage adapter with a classic bug: it saves the term but forgets the vote, so a restarted
 * server may vote twice in one term (Raft Figure 2: votedFor must be persistent).
 */
export function forgetVoteStorage(storage: LogStorage): LogStorage {
  return withSave(storage, (batch) =>
    storage.save(
      batch.hardState === undefined
        ? batch
        : { ...batch, hardState: { ...batch.hardState, vote: null } },
    ),
  );
}

/**
 * A storage adapter that skips the fsync: a save reports done as soon as it is issued, so the
 * node answers for votes and entries a crash would lose (Raft Figure 2: persist before replying).
 */
export function unsyncedStorage(storage: LogStorage): LogStorage {
  return withSave(storage, (batch) => {
    // The write still happens, later; only its completion is claimed too early.
    storage.save(batch).catch(() => undefined);
    return Promise.resolve();
  });
}

/**
 * A leader bug modelled on the wire: append-entries claim that everything they carry is committed,
 * so followers commit (and apply) entries that no majority holds yet.
 */
export function eagerCommitInterceptor(message: Message): Message {
  if (message.type !== 'append-entries' || message.entries.length === 0) return message;
  return { ...message, commit: message.prevLogIndex + message.entries.length };
}

/**
 * A state machine whose read path serves the value a key had before its latest write: a stale
 * cache. Writes are applied correctly; only `get` answers lag.
 */
export class StaleReadStateMachine extends KeyValueStateMachine {
  readonly #previous = new Map<string, string>();

  override apply(command: Uint8Array, context: ApplyContext): KeyValueOutput {
    const decoded = decodeKeyValueCommand(command);
    if (decoded.kind !== 'get') this.#previous.set(decoded.key, super.read(decoded.key));
    return super.apply(command, context);
  }

  protected override read(key: string): string {
    return this.#previous.get(key) ?? super.read(key);
  }
}
