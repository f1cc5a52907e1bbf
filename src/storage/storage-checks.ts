import { RaftError, type Entry, type LogFacts, type SnapshotMeta } from '../core/index.js';
import type { SaveBatch } from './log-storage.js';

/**
 * Checks every storage adapter applies before touching its medium. A call that breaks the
 * `LogStorage` contract is a bug in the caller; it is rejected with `INVARIANT` before anything is
 * written, so the stored state is unchanged and still trustworthy.
 */

/** The bounds of the stored log, as the checks need them. */
export interface LogBounds {
  /** The compaction marker's index: entries at or below it are gone. */
  readonly snapshotIndex: number;
  /** The last stored index, or `snapshotIndex` when the log is empty. */
  readonly lastIndex: number;
}

function isLogPosition(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function fail(message: string, details: LogFacts): never {
  throw new RaftError('INVARIANT', `invalid storage call: ${message}`, { details });
}

/** Throws `INVARIANT` unless `entries` could be appended to a log with these bounds. */
export function assertAppendable(entries: readonly Entry[], bounds: LogBounds): void {
  const first = entries[0];
  if (first === undefined) return;
  if (!isLogPosition(first.index) || first.index <= bounds.snapshotIndex) {
    fail('the first entry is at or below the snapshot index', {
      firstIndex: first.index,
      snapshotIndex: bounds.snapshotIndex,
    });
  }
  if (first.index > bounds.lastIndex + 1) {
    fail('the first entry leaves a gap after the last stored index', {
      firstIndex: first.index,
      lastIndex: bounds.lastIndex,
    });
  }
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position]!;
    if (entry.index !== first.index + position) {
      fail('entry indexes are not consecutive', {
        expectedIndex: first.index + position,
        actualIndex: entry.index,
      });
    }
    if (!isLogPosition(entry.term)) {
      fail('an entry term is not a non-negative integer', { index: entry.index, term: entry.term });
    }
  }
}

const noEntries: readonly Entry[] = Object.freeze([]);

/** Throws `INVARIANT` unless the batch could be saved to a log with these bounds. */
export function assertSaveBatch(batch: SaveBatch, bounds: LogBounds): void {
  assertAppendable(batch.entries ?? noEntries, bounds);
  const hardState = batch.hardState;
  if (hardState === undefined) return;
  if (!isLogPosition(hardState.term) || !isLogPosition(hardState.commit)) {
    fail('hard state term and commit must be non-negative integers', {
      term: hardState.term,
      commit: hardState.commit,
    });
  }
}

/** Throws `INVARIANT` unless `from <= to` and both lie within the stored log. */
export function assertEntriesRange(from: number, to: number, bounds: LogBounds): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) {
    fail('entries() needs integer bounds with from <= to', { from, to });
  }
  if (from <= bounds.snapshotIndex || to > bounds.lastIndex + 1) {
    fail('entries() range lies outside the stored log', {
      from,
      to,
      snapshotIndex: bounds.snapshotIndex,
      lastIndex: bounds.lastIndex,
    });
  }
}

/** Throws `INVARIANT` if the marker would move the compaction point backwards. */
export function assertCompaction(snapshot: SnapshotMeta, bounds: LogBounds): void {
  if (!isLogPosition(snapshot.index) || !isLogPosition(snapshot.term)) {
    fail('snapshot index and term must be non-negative integers', {
      index: snapshot.index,
      term: snapshot.term,
    });
  }
  if (snapshot.index < bounds.snapshotIndex) {
    fail('compaction cannot move the snapshot index backwards', {
      index: snapshot.index,
      snapshotIndex: bounds.snapshotIndex,
    });
  }
}

/**
 * Where the log stands after compacting to `snapshot`. Entries after the marker survive only when
 * the stored entry at the marker's index has the marker's term: otherwise the log after it belongs
 * to a different history than the snapshot and is dropped whole (Raft §7, InstallSnapshot step 6).
 */
export function keepsEntriesAfterCompaction(
  snapshot: SnapshotMeta,
  bounds: LogBounds,
  termAtSnapshotIndex: number | undefined,
): boolean {
  if (snapshot.index >= bounds.lastIndex) return false;
  return termAtSnapshotIndex === snapshot.term;
}

/** Throws `INVARIANT` unless a snapshot read names a position and a positive length. */
export function assertSnapshotRead(index: number, offset: number, bytesMax: number): void {
  if (!isLogPosition(index) || !isLogPosition(offset) || !isLogPosition(bytesMax) || bytesMax < 1) {
    fail('readSnapshot() needs a non-negative index and offset and a positive length', {
      index,
      offset,
      bytesMax,
    });
  }
}

/** Throws `INVARIANT` unless a snapshot at `index` may replace the published one. */
export function assertPublishable(index: number, publishedIndex: number | null): void {
  if (publishedIndex !== null && index <= publishedIndex) {
    fail('a snapshot at or below the published one cannot replace it', {
      index,
      publishedIndex,
    });
  }
}

/** Throws `INVARIANT` unless `checksum` is an unsigned 32-bit value. */
export function assertChecksum(checksum: number): void {
  if (!Number.isSafeInteger(checksum) || checksum < 0 || checksum > 0xffff_ffff) {
    fail('a snapshot checksum is an unsigned 32-bit integer', { checksum });
  }
}

/** The bytes at `offset`, at most `bytesMax` of them, of data held as one array. */
export function sliceSnapshot(data: Uint8Array, offset: number, bytesMax: number): Uint8Array {
  return data.slice(
    Math.min(offset, data.byteLength),
    Math.min(offset + bytesMax, data.byteLength),
  );
}
