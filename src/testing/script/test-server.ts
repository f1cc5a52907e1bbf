import type { InstallSnapshot, InstallSnapshotResponse } from '../../core/messages.js';
import type { RaftCore } from '../../core/raft-core.js';
import type { Ready, SnapshotTransfer } from '../../core/ready.js';
import type { Entry, HardState, SnapshotMeta } from '../../core/types.js';

/** A snapshot's data in a test: the entries it covers, as the application applied them. */
export interface SnapshotData {
  readonly meta: SnapshotMeta;
  readonly applied: readonly Entry[];
}

/** What a test server has made durable: all that survives a restart. */
export interface Disk {
  hardState: HardState;
  /** The compaction marker: the log starts after it. */
  snapshot: SnapshotMeta;
  entries: Entry[];
  /** The newest snapshot's data, taken here or received from a leader. */
  snapshotData: SnapshotData | null;
}

/** A Ready taken from a core and not yet advanced: the stages a crash can fall between. */
export interface ReadyInProgress {
  readonly ready: Ready;
  /** Whether its hard state and entries are on the disk yet. */
  persisted: boolean;
}

/** One server of a test cluster: its core, its disk and what it applied. */
export interface TestServer {
  core: RaftCore;
  disk: Disk;
  /** Every entry applied, oldest first; replaced by the snapshot's when one is installed. */
  applied: Entry[];
  /** The Ready being worked through, one stage at a time; lost if the server restarts. */
  inProgress: ReadyInProgress | null;
  /** Counts the server's processes: a restart starts the next one. */
  incarnation: number;
}

/** A disk that holds only `snapshot` (a bootstrap marker): a server's first boot, or a lost disk. */
export function emptyDisk(snapshot: SnapshotMeta): Disk {
  return {
    hardState: { term: 0, vote: null, commit: 0 },
    snapshot,
    entries: [],
    snapshotData: null,
  };
}

/** Writes a Ready's hard state and entries; a first index at or below the last replaces the tail. */
export function persistReady(disk: Disk, ready: Ready): void {
  if (ready.hardState !== null) disk.hardState = ready.hardState;
  const first = ready.entries[0];
  if (first !== undefined) {
    disk.entries.length = Math.min(disk.entries.length, first.index - disk.snapshot.index - 1);
    disk.entries.push(...ready.entries);
  }
}

/**
 * Takes a snapshot of what `server` has applied and compacts its log up to `compactTo` (at most
 * the applied index), the way the runtime does: snapshot data first, then storage, then the core.
 * Returns the snapshot taken.
 */
export function takeSnapshot(server: TestServer, compactTo: number): SnapshotMeta {
  const appliedIndex = server.applied.at(-1)?.index ?? server.disk.snapshot.index;
  const meta = server.core.snapshotMeta(appliedIndex);
  server.disk.snapshotData = { meta, applied: [...server.applied] };
  server.core.snapshotAvailable(meta);
  const marker = server.core.snapshotMeta(compactTo);
  server.disk.entries = server.disk.entries.filter((entry) => entry.index > compactTo);
  server.disk.snapshot = marker;
  server.core.compact(compactTo);
  return meta;
}

/**
 * Installs a received snapshot at once (the runtime stores chunks, then does the same): the log
 * keeps what follows the snapshot only if it agrees at the snapshot's index. `data` is what the
 * sender holds. Returns the answer for the sender.
 */
export function installSnapshot(
  server: TestServer,
  chunk: InstallSnapshot,
  data: SnapshotData,
): InstallSnapshotResponse {
  const meta = chunk.snapshot;
  const kept = server.disk.entries.find((entry) => entry.index === meta.index);
  server.disk.entries =
    kept?.term === meta.term ? server.disk.entries.filter((entry) => entry.index > meta.index) : [];
  server.disk.snapshot = meta;
  server.disk.snapshotData = data;
  server.applied = [...data.applied];
  server.core.installSnapshot(meta);
  return {
    type: 'install-snapshot-response',
    term: server.core.term,
    from: chunk.to,
    to: chunk.from,
    snapshotIndex: meta.index,
    bytesReceived: chunk.totalBytes,
    success: true,
  };
}

/**
 * The whole of `server`'s snapshot for `transfer`, as one chunk: the receiver finds the data on
 * the sender's disk, so the bytes only stand for its size.
 */
export function snapshotChunk(
  id: string,
  server: TestServer,
  transfer: SnapshotTransfer,
): InstallSnapshot {
  const data = server.disk.snapshotData;
  if (data === null || data.meta.index !== transfer.snapshot.index) {
    throw new Error(`${id} has no data for snapshot ${transfer.snapshot.index}`);
  }
  const bytes = new Uint8Array(data.applied.length);
  return {
    type: 'install-snapshot',
    term: server.core.term,
    from: id,
    to: transfer.to,
    snapshot: transfer.snapshot,
    offset: 0,
    data: bytes,
    totalBytes: bytes.byteLength,
    checksum: 0,
    done: true,
  };
}
