import type { Entry, HardState, SnapshotMeta } from '../core/index.js';

/** What a storage holds when it is opened: enough for the node to rebuild its core. */
export interface StoredState {
  readonly hardState: HardState;
  /** The compaction marker: entries up to `snapshot.index` are gone (on first boot, index 0). */
  readonly snapshot: SnapshotMeta;
  /** The last stored entry's index, or `snapshot.index` when the log is empty. */
  readonly lastIndex: number;
  /**
   * Set when a failed apply left the application's state untrustworthy (see `setBroken`): the node
   * refuses to start until an operator repairs the state and clears the mark.
   */
  readonly broken?: string | null;
  /**
   * How long ago, at least, the storage's previous holder stopped cleanly, when the storage can
   * tell (`FileStorage` and `SqliteStorage` can, within one boot of the machine); absent after a
   * crash or a first boot. That holder sent nothing after it stopped, so the node counts this time
   * toward its wait before voting after a restart (docs/runtime.md, "Leases"). A storage that
   * reports it must forget it as it reports it: it speaks for the previous holder only.
   */
  readonly closedForMs?: number;
}

/** One group commit: everything in it becomes durable together, with one sync. */
export interface SaveBatch {
  /** Replaces the stored hard state when present. */
  readonly hardState?: HardState;
  /**
   * Entries with consecutive indexes. If the first index is at or below the stored last index, the
   * stored entries from that index on are discarded first (a follower truncating a conflicting
   * suffix); the first index is never above `lastIndex + 1` nor at or below the snapshot index.
   *
   * The entries and their command bytes pass to the storage as they are: the caller never
   * changes them after `save` (the core keeps the same objects in its log), so a storage may keep
   * them without a copy. A storage must not change them either.
   */
  readonly entries?: readonly Entry[];
}

/** A published snapshot as storage holds it: what it covers, its size and its checksum. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  /** The data's size in bytes. */
  readonly bytes: number;
  /** CRC-32C over the whole data, as given to `publish`. */
  readonly checksum: number;
}

/**
 * Writes the data of one snapshot. Nothing written is visible, nor survives a crash, until
 * `publish` resolves; a writer that is neither published nor aborted is discarded by the next open.
 */
export interface SnapshotWriter {
  /** Appends the next bytes of the data. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Durably makes this snapshot the newest one, replacing the previous one atomically: a crash
   * before the promise resolves leaves the previous one intact and readable. `checksum` is the
   * CRC-32C of everything written. Rejects with `INVARIANT` when a snapshot at the same or a
   * higher index is already published (the caller checks `latestSnapshot` first).
   */
  publish(checksum: number): Promise<StoredSnapshot>;
  /** Discards what was written. */
  abort(): Promise<void>;
}

/**
 * Everything Raft must remember. Implementations may live in the application's own database.
 *
 * Ownership: log entries are immutable values. What `save` is given stays unchanged by both
 * sides, so the storage may keep those very objects; what `entries` returns belongs to the caller,
 * so a storage that keeps objects returns copies (a reader may change what it read without
 * changing the log).
 *
 * Durability contract: when a promise returned by `save`, `compact`, `bootstrap` or a snapshot
 * writer's `publish` resolves, its
 * effect survives a crash of the process or the machine. A crash while a call is in flight may keep
 * any prefix of that call's entries, but never a torn entry, never entries without the hard state
 * saved by an earlier resolved call, and never a hard state half-written. Calls are never made
 * concurrently: the node awaits each one before the next.
 */
export interface LogStorage {
  /** Opens the storage; `null` when it holds nothing yet (first boot). */
  open(): Promise<StoredState | null>;
  /**
   * Optional: records that this incarnation will send nothing more. `RaftNode` calls it during a
   * stop, once its transport has stopped, just before `close`; a storage that implements it
   * reports the time since at the next open, as `StoredState.closedForMs`. A storage must not
   * record a stop on `close` alone: whoever closes it may still be sending.
   */
  recordCleanStop?(): Promise<void>;
  /** Records the initial state of a first boot. Called only when `open` returned `null`. */
  bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void>;
  /** Durably applies one batch (see `SaveBatch`). */
  save(batch: SaveBatch): Promise<void>;
  /** Entries with `from <= index < to`; both bounds must lie within the stored log. */
  entries(from: number, to: number): Promise<Entry[]>;
  /**
   * Forgets the entries up to `snapshot.index` and records the marker. Entries after it stay when
   * the stored entry at `snapshot.index` has the marker's term (Raft §7); otherwise — the log does
   * not reach that far, or holds a different entry there (the snapshot came from the leader) — the
   * whole log is dropped.
   */
  compact(snapshot: SnapshotMeta): Promise<void>;
  /** The newest published snapshot, or `null` when none was ever published. */
  latestSnapshot(): Promise<StoredSnapshot | null>;
  /**
   * Starts writing the data of a snapshot described by `meta`. Snapshot data is written beside the
   * log: writers may be open while `save` and `compact` run, and several writers may be open at
   * once (one taken here, one arriving from a leader).
   */
  createSnapshot(meta: SnapshotMeta): Promise<SnapshotWriter>;
  /**
   * Reads up to `bytesMax` bytes at `offset` of the published snapshot at `index` (fewer only at
   * its end). Resolves with `null` once that snapshot is no longer the published one: a newer one
   * replaced it, and whoever was reading starts over with the newer one.
   */
  readSnapshot(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null>;
  /**
   * Durably marks (or, with `null`, clears) the storage as broken: a command failed to apply and
   * was not declared idempotent, so the state machine may hold a partial effect. Reported by `open`
   * as `broken`, so the node refuses to start until an operator clears it.
   */
  setBroken(reason: string | null): Promise<void>;
  /** Releases files and locks. The storage may be opened again afterwards. */
  close(): Promise<void>;
}
