import {
  RaftCore,
  RaftError,
  bootstrapSnapshot,
  emptyConfiguration,
  type SnapshotMeta,
} from '../core/index.js';
import type { LogStorage, StoredSnapshot, StoredState } from '../storage/log-storage.js';
import { publishCoreTrace } from './core-trace-channel.js';
import { wrapStorage } from './node-errors.js';
import type { ResolvedNodeOptions } from './node-options.js';
import { replaySessionEntries, takeSessionSection } from './session-snapshot.js';
import type { SessionTable } from './session-table.js';
import { readSnapshotChunks } from './snapshots.js';

/** The options that decide what a node restores from. */
export type RestoreOptions = Pick<
  ResolvedNodeOptions<unknown, unknown, unknown>,
  | 'id'
  | 'storage'
  | 'stateMachine'
  | 'initialConfiguration'
  | 'initialSettings'
  | 'core'
  | 'random'
  | 'snapshots'
  | 'resultCodec'
  | 'clock'
  | 'tickMs'
> & {
  /** The applier's session table, restored here from the snapshot and the log. */
  readonly sessions: SessionTable;
};

/** A core rebuilt from storage, and the index the state machine has applied up to. */
export interface RestoredCore {
  readonly core: RaftCore;
  readonly appliedIndex: number;
}

/**
 * Opens storage (bootstrapping it on first boot) and rebuilds the core from what it holds.
 * Rejects with `APPLY_FAILED` if storage was marked broken by a failed apply: the application's
 * state cannot be trusted until someone repairs it and clears the mark.
 */
export async function restoreCore(
  options: RestoreOptions,
  /** Runs on first boot, before anything is written: a joining server asks the cluster here. */
  beforeBootstrap: () => Promise<void> = () => Promise.resolve(),
): Promise<RestoredCore> {
  const { storage, stateMachine } = options;
  // An earlier incarnation of this server has stopped before this one opens its storage: two
  // incarnations writing one log would corrupt it, so every storage requires it (FileStorage
  // enforces it with a lock taken before reading anything). It sent its last message before this
  // point, and the time from here until the core is made, most of a restart, counts as silence —
  // or, when storage knows when that incarnation stopped cleanly, the time since then, if longer.
  const openingAt = options.clock.now();
  let stored: StoredState | null = await wrapStorage(() => storage.open());
  const closedForMs = stored?.closedForMs ?? 0;
  if (stored === null) {
    await beforeBootstrap();
    const snapshot = bootstrapSnapshot(
      options.initialConfiguration ?? emptyConfiguration,
      options.initialSettings,
    );
    const hardState = { term: 0, vote: null, commit: 0 };
    await wrapStorage(() => storage.bootstrap(snapshot, hardState));
    stored = { hardState, snapshot, lastIndex: 0, broken: null };
  }
  if (stored.broken !== undefined && stored.broken !== null) {
    throw new RaftError(
      'APPLY_FAILED',
      `storage is marked broken (${stored.broken}); repair the state machine, then clear the mark with clearBrokenMark(storage)`,
      { details: { reason: stored.broken } },
    );
  }
  const latest = await wrapStorage(() => storage.latestSnapshot());
  if (latest !== null) stored = await finishInstall(storage, stored, latest);
  const { lastIndex, hardState } = stored;
  let applied = (await stateMachine.appliedIndex?.()) ?? 0;
  const { sessions, resultCodec } = options;
  if (latest !== null) {
    const chunks = readSnapshotChunks(storage, latest, options.snapshots.chunkBytes);
    const machineChunks = await takeSessionSection(chunks, sessions, resultCodec);
    // A state machine held in memory starts empty; a durable one may be behind the snapshot (a
    // crash between installing a leader's snapshot and restoring it). Either way the snapshot
    // comes first.
    if (applied < latest.meta.index && stateMachine.restore !== undefined) {
      const { index, term } = latest.meta;
      await stateMachine.restore(machineChunks, { index, term });
      applied = index;
    }
  }
  // The core starts from the newest snapshot the state machine holds, not from the log's older
  // compaction marker: the trailing window between the two is only for followers that lag, and
  // reading it cost a restart thousands of entries it never applies. Storage keeps the window;
  // a follower that needs it after the restart is sent the snapshot instead.
  const snapshot =
    latest !== null && latest.meta.index > stored.snapshot.index && applied >= latest.meta.index
      ? latest.meta
      : stored.snapshot;
  const entries =
    lastIndex > snapshot.index
      ? await wrapStorage(() => storage.entries(snapshot.index + 1, lastIndex + 1))
      : [];
  // A durable state machine is past the snapshot: the table catches up over what it applied.
  const tableIndex = latest?.meta.index ?? 0;
  replaySessionEntries(
    sessions,
    entries.filter((entry) => entry.index > tableIndex && entry.index <= applied),
  );
  if (applied < snapshot.index) {
    throw new RaftError(
      'CORRUPT_STORAGE',
      `the log starts after ${snapshot.index} but the state machine holds only up to ${applied} and no snapshot covers the gap`,
      { details: { snapshotIndex: snapshot.index, appliedIndex: applied } },
    );
  }
  const silentMs = Math.max(options.clock.now() - openingAt, closedForMs);
  const silentTicks = Math.max(0, Math.floor(silentMs / options.tickMs));
  const core = new RaftCore(
    {
      ...options.core,
      id: options.id,
      applied,
      silentTicks,
      random: options.random,
      tracer: publishCoreTrace,
    },
    { hardState, snapshot, entries },
  );
  if (latest !== null) core.snapshotAvailable(latest.meta);
  return { core, appliedIndex: applied };
}

/**
 * A snapshot from the leader is installed by publishing its data, then compacting the log to it.
 * A crash between the two leaves a log that may disagree with the snapshot at its index; that
 * compaction is finished here, before anything reads the log.
 */
async function finishInstall(
  storage: LogStorage,
  stored: StoredState,
  latest: StoredSnapshot,
): Promise<StoredState> {
  const meta: SnapshotMeta = latest.meta;
  if (meta.index <= stored.snapshot.index) return stored;
  if (meta.index <= stored.lastIndex) {
    const [entry] = await wrapStorage(() => storage.entries(meta.index, meta.index + 1));
    if (entry?.term === meta.term) return stored;
  }
  await wrapStorage(() => storage.compact(meta));
  // The log disagreed with the snapshot at its index (or did not reach it), so all of it went.
  return { ...stored, snapshot: meta, lastIndex: meta.index };
}

/**
 * Closes storage once the node is done with it. `stoppedSending`: the node's transport has
 * stopped, so nothing more leaves this incarnation, and storage may record a clean stop that the
 * next start counts as silence (docs/runtime.md, "Lease reads, and what they assume").
 */
export async function closeStorage(
  storage: LogStorage,
  options: { readonly stoppedSending: boolean },
): Promise<void> {
  if (options.stoppedSending) await storage.recordCleanStop?.().catch(() => undefined);
  await storage.close().catch(() => undefined);
}
