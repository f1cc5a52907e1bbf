import { join, resolve } from 'node:path';
import {
  positiveIntegerOption,
  RaftError,
  type Entry,
  type HardState,
  type SnapshotMeta,
} from '../../core/index.js';
import { copyEntry, copyHardState, copySnapshotMeta } from '../entry-copy.js';
import type {
  LogStorage,
  SaveBatch,
  SnapshotWriter,
  StoredSnapshot,
  StoredState,
} from '../log-storage.js';
import {
  assertCompaction,
  assertEntriesRange,
  assertSaveBatch,
  keepsEntriesAfterCompaction,
  type LogBounds,
} from '../storage-checks.js';
import { DirectoryLock } from './directory-lock.js';
import { EntryCache } from './entry-cache.js';
import { nodeFileSystem, type StorageFileSystem } from './file-system.js';
import { corruptStorage, listSegmentSequences, recoverLog, type Repair } from './log-recovery.js';
import {
  framePayloadBytesMax,
  type StateRecord,
  type VersionedHardState,
} from './record-format.js';
import type { Segment } from './segment.js';
import { readSegmentEntries } from './segment-reader.js';
import { SegmentWriter, encodeRecords } from './segment-writer.js';
import { StorageGuard, assertBootstrapped, assertNotBootstrapped } from '../storage-guard.js';
import { readBrokenMark, writeBrokenMark } from './broken-mark-file.js';
import { machineStopClock, type StopClock } from '../clean-stop-record.js';
import { takeCleanStop, writeCleanStop } from './clean-stop.js';
import { readStateFile, stateTemporaryFileName, writeStateFile } from './state-file.js';
import { FileSnapshotStore } from './snapshot-files.js';

/** The defaults of {@link FileStorageOptions}. */
export const fileStorageDefaults = Object.freeze({
  /**
   * Size at which the active segment is closed and a new one started. Compaction deletes whole
   * segments, so this is also the granularity of the space it frees, and what start-up reads of
   * entries already behind the log's compaction marker (every frame's checksum is checked): small
   * enough that both stay around a MB, large enough that starting a segment (a sync of the full
   * one, a new file, a directory sync) is rare even at tens of MB/s of commands.
   */
  segmentBytesMax: 2 * 1024 * 1024,
  /** Recent entries served from memory. */
  cacheEntriesMax: 8192,
  /** Command bytes of recent entries served from memory. */
  cacheBytesMax: 32 * 1024 * 1024,
});

/** Options for {@link FileStorage}. */
export interface FileStorageOptions {
  /** The directory holding the log; created if missing. One storage per directory. */
  readonly directory: string;
  /** A segment grows to about this many bytes before a new one starts (one record may exceed it). */
  readonly segmentBytesMax?: number;
  /** Most recent entries kept in memory; older ones are read from disk on demand. */
  readonly cacheEntriesMax?: number;
  /** Most command bytes kept in memory. */
  readonly cacheBytesMax?: number;
  /** The file system to use; tests inject failures through it. */
  readonly fileSystem?: StorageFileSystem;
  /**
   * What a clean stop is recorded against (see `StoredState.closedForMs`): by default this
   * machine's boot id and monotonic clock; tests inject their own.
   */
  readonly stopClock?: StopClock;
}

function fileErrorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/**
 * A durable {@link LogStorage} in a directory of append-only segment files, using nothing but
 * Node's standard library.
 *
 * Each `save` appends one frame per entry (and one for the hard state) in one write made durable
 * by `O_DSYNC`, or followed by one fdatasync where that is not offered (group commit); a batch
 * that crosses a segment boundary syncs the full segment before starting the next. Every frame
 * carries its length and a CRC-32C. The compaction marker lives in a small state file replaced
 * atomically (temporary file, fsync, rename, directory fsync). Recovery on `open` cuts a torn tail
 * and refuses with `CORRUPT_STORAGE` when damage is followed by valid records. After any failed
 * write or sync the storage refuses every further call with `STORAGE_FAILED`. See docs/storage.md
 * for the format.
 */
export class FileStorage implements LogStorage {
  readonly #directory: string;
  readonly #fileSystem: StorageFileSystem;
  readonly #segmentBytesMax: number;
  readonly #cache: EntryCache;
  readonly #lock: DirectoryLock;
  readonly #snapshots: FileSnapshotStore;
  readonly #guard = new StorageGuard();
  readonly #writer: SegmentWriter;
  readonly #stopClock: StopClock;
  /** How long the previous holder had been stopped cleanly, reported by the first open only. */
  #closedForMs: number | undefined;
  #state: StateRecord | null = null;
  #hardState: VersionedHardState = { version: 0, hardState: { term: 0, vote: null, commit: 0 } };
  #segments: Segment[] = [];
  #lastIndex = 0;
  /** Calls run one at a time in arrival order, so close waits for whatever is in flight. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: FileStorageOptions) {
    this.#directory = resolve(options.directory);
    this.#fileSystem = options.fileSystem ?? nodeFileSystem;
    this.#segmentBytesMax = positiveIntegerOption(
      'segmentBytesMax',
      options.segmentBytesMax ?? fileStorageDefaults.segmentBytesMax,
    );
    this.#cache = new EntryCache({
      entriesMax: positiveIntegerOption(
        'cacheEntriesMax',
        options.cacheEntriesMax ?? fileStorageDefaults.cacheEntriesMax,
      ),
      bytesMax: positiveIntegerOption(
        'cacheBytesMax',
        options.cacheBytesMax ?? fileStorageDefaults.cacheBytesMax,
      ),
    });
    this.#lock = new DirectoryLock(this.#fileSystem, this.#directory);
    this.#stopClock = options.stopClock ?? machineStopClock;
    this.#snapshots = new FileSnapshotStore(this.#fileSystem, this.#directory);
    this.#writer = new SegmentWriter({
      fileSystem: this.#fileSystem,
      directory: this.#directory,
      segmentBytesMax: this.#segmentBytesMax,
    });
  }

  /** The directory this storage lives in, as an absolute path. */
  get directory(): string {
    return this.#directory;
  }

  open(): Promise<StoredState | null> {
    return this.#serialize(async () => {
      if (!this.#guard.isOpen) await this.#openFiles();
      const closedForMs = this.#closedForMs;
      this.#closedForMs = undefined;
      const state = this.#state;
      if (state === null) return null;
      const broken = await readBrokenMark(this.#fileSystem, this.#directory);
      return {
        hardState: copyHardState(this.#hardState.hardState),
        snapshot: copySnapshotMeta(state.snapshot),
        lastIndex: this.#lastIndex,
        ...(broken === null ? {} : { broken }),
        ...(closedForMs === undefined ? {} : { closedForMs }),
      };
    });
  }

  /** Durably records (or with `null` clears) the broken mark that `open` reports. */
  setBroken(reason: string | null): Promise<void> {
    return this.#serialize(async () => {
      if (!this.#guard.isOpen) await this.#openFiles();
      await writeBrokenMark(this.#fileSystem, this.#directory, reason);
    });
  }

  bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    return this.#serialize(async () => {
      this.#assertUsable();
      assertNotBootstrapped(this.#state !== null);
      assertCompaction(snapshot, { snapshotIndex: 0, lastIndex: 0 });
      const state: StateRecord = {
        snapshot: copySnapshotMeta(snapshot),
        hardState: { version: 1, hardState: copyHardState(hardState) },
        firstSegmentSequence: 1,
      };
      await this.#guardWrite(() => writeStateFile(this.#fileSystem, this.#directory, state));
      this.#state = state;
      this.#hardState = state.hardState;
      this.#lastIndex = snapshot.index;
    });
  }

  save(batch: SaveBatch): Promise<void> {
    return this.#serialize(async () => {
      this.#assertUsable();
      const state = this.#bootstrappedState();
      assertSaveBatch(batch, this.#bounds(state));
      const entries = batch.entries ?? [];
      const hardState =
        batch.hardState === undefined
          ? null
          : { version: this.#hardState.version + 1, hardState: copyHardState(batch.hardState) };
      const encoded = encodeRecords(entries, hardState);
      const first = entries[0];
      await this.#guardWrite(async () => {
        if (first !== undefined && first.index <= this.#lastIndex)
          await this.#truncateFrom(first.index);
        await this.#writer.append(this.#segments, encoded, {
          sequence: state.firstSegmentSequence,
          firstIndex: this.#lastIndex + 1,
        });
      });
      // Kept as given: the caller never changes saved entries (the LogStorage contract).
      this.#cache.append(entries);
      if (first !== undefined) this.#lastIndex = first.index + entries.length - 1;
      if (hardState !== null) this.#hardState = hardState;
    });
  }

  entries(from: number, to: number): Promise<Entry[]> {
    return this.#serialize(async () => {
      this.#assertUsable();
      assertEntriesRange(from, to, this.#bounds(this.#bootstrappedState()));
      const cacheFirst = this.#cache.firstIndex ?? to;
      const diskTo = Math.min(to, Math.max(from, cacheFirst));
      const fromDisk = from < diskTo ? await this.#readEntries(from, diskTo) : [];
      const cached = this.#cache.slice(diskTo, to);
      // The cache always ends at the last index, so it holds the rest; the disk is the fallback.
      if (cached === null) return fromDisk.concat(await this.#readEntries(diskTo, to));
      for (const entry of cached) fromDisk.push(copyEntry(entry));
      return fromDisk;
    });
  }

  compact(snapshot: SnapshotMeta): Promise<void> {
    return this.#serialize(async () => {
      this.#assertUsable();
      const state = this.#bootstrappedState();
      const bounds = this.#bounds(state);
      assertCompaction(snapshot, bounds);
      const keep = keepsEntriesAfterCompaction(
        snapshot,
        bounds,
        await this.#termAt(snapshot.index),
      );
      const dead = keep
        ? this.#segments.filter((segment) => segment.nextIndex - 1 <= snapshot.index)
        : [...this.#segments];
      const survivors = this.#segments.slice(dead.length);
      const next: StateRecord = {
        snapshot: copySnapshotMeta(snapshot),
        hardState: this.#hardState,
        firstSegmentSequence: survivors[0]?.sequence ?? this.#nextSequence(),
      };
      await this.#guardWrite(async () => {
        await writeStateFile(this.#fileSystem, this.#directory, next);
        if (survivors.length === 0) await this.#writer.close();
        await this.#removeSegments(dead);
      });
      this.#state = next;
      this.#segments = survivors;
      if (keep) this.#cache.dropThrough(snapshot.index);
      else this.#cache.clear();
      this.#lastIndex = keep ? this.#lastIndex : snapshot.index;
    });
  }

  // Snapshot data lives in its own files, so these calls do not wait behind log writes.
  async latestSnapshot(): Promise<StoredSnapshot | null> {
    this.#assertUsable();
    await Promise.resolve();
    return this.#snapshots.latest();
  }

  async createSnapshot(meta: SnapshotMeta): Promise<SnapshotWriter> {
    this.#assertUsable();
    return this.#snapshots.create(meta);
  }

  async readSnapshot(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    this.#assertUsable();
    return this.#snapshots.read(index, offset, bytesMax);
  }

  /**
   * Writes the clean-stop record (docs/storage.md) while the lock is held, so no next holder can
   * be running yet. Only a hint: if it fails, the next open reports nothing and the node waits as
   * after a crash.
   */
  recordCleanStop(): Promise<void> {
    return this.#serialize(async () => {
      if (!this.#guard.isOpen) return;
      await writeCleanStop(this.#fileSystem, this.#directory, this.#stopClock);
    });
  }

  close(): Promise<void> {
    return this.#serialize(async () => {
      this.#closedForMs = undefined;
      try {
        await this.#writer.close();
      } finally {
        this.#guard.closed();
        this.#state = null;
        this.#segments = [];
        this.#cache.clear();
        await this.#lock.release();
      }
    });
  }

  #serialize<Result>(operation: () => Promise<Result>): Promise<Result> {
    const result = this.#tail.then(operation);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #openFiles(): Promise<void> {
    try {
      await this.#fileSystem.makeDirectory(this.#directory);
      await this.#lock.acquire();
    } catch (error) {
      if (error instanceof RaftError) throw error;
      throw new RaftError(
        'STORAGE_FAILED',
        `cannot use ${this.#directory} for storage (${fileErrorCode(error)}): it must be a writable directory`,
        { cause: error, details: { directory: this.#directory } },
      );
    }
    try {
      this.#closedForMs = await takeCleanStop(this.#fileSystem, this.#directory, this.#stopClock);
      await this.#recover();
      this.#guard.opened();
    } catch (error) {
      this.#closedForMs = undefined;
      this.#segments = [];
      this.#state = null;
      this.#cache.clear();
      await this.#writer.close().catch(() => undefined);
      await this.#lock.release();
      if (error instanceof RaftError) throw error;
      throw new RaftError(
        'STORAGE_FAILED',
        `cannot read ${this.#directory} (${fileErrorCode(error)})`,
        {
          cause: error,
          details: { directory: this.#directory },
        },
      );
    }
  }

  async #recover(): Promise<void> {
    await this.#snapshots.recover();
    const state = await readStateFile(this.#fileSystem, this.#directory);
    if (state === null) {
      const sequences = await listSegmentSequences(this.#fileSystem, this.#directory);
      if (sequences.length > 0) {
        throw corruptStorage(
          join(this.#directory, 'state'),
          0,
          'state file is missing but segments exist',
        );
      }
      return;
    }
    const recovered = await recoverLog({
      fileSystem: this.#fileSystem,
      directory: this.#directory,
      state,
      segmentFileBytesMax: 2 * Math.max(this.#segmentBytesMax, framePayloadBytesMax),
    });
    await this.#applyRepairs(recovered.repairs);
    this.#state = state;
    this.#hardState = recovered.hardState;
    this.#segments = recovered.segments;
    this.#lastIndex = recovered.lastIndex;
    await this.#writer.resume(this.#segments[this.#segments.length - 1]);
  }

  async #applyRepairs(repairs: readonly Repair[]): Promise<void> {
    let removed = false;
    for (const repair of repairs) {
      if (repair.kind === 'remove') {
        await this.#fileSystem.remove(repair.path);
        removed = true;
        continue;
      }
      const file = await this.#fileSystem.open(repair.path, 'write');
      try {
        // Synced before anything new is appended, so new records can never sit in front of
        // remains of the torn ones.
        await file.truncate(repair.length);
        await file.datasync();
      } finally {
        await file.close();
      }
    }
    await this.#fileSystem
      .remove(join(this.#directory, stateTemporaryFileName))
      .catch(() => undefined);
    if (removed) await this.#fileSystem.syncDirectory(this.#directory);
  }

  /** Runs file writes; any failure makes the storage refuse everything from then on. */
  async #guardWrite(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      throw this.#guard.fail(
        new RaftError(
          'STORAGE_FAILED',
          `write to ${this.#directory} failed (${fileErrorCode(error)}); the storage refuses further writes`,
          { cause: error, details: { directory: this.#directory } },
        ),
      );
    }
  }

  /**
   * Discards entries at and after `index` before a conflicting suffix is replaced. The state file
   * is rewritten first because the cut may remove the newest hard-state record.
   */
  async #truncateFrom(index: number): Promise<void> {
    const state = this.#bootstrappedState();
    const next: StateRecord = { ...state, hardState: this.#hardState };
    await writeStateFile(this.#fileSystem, this.#directory, next);
    this.#state = next;
    const position = this.#segments.findIndex((segment) => segment.holds(index));
    const segment = this.#segments[position];
    if (segment === undefined) throw new RaftError('INVARIANT', `no segment holds entry ${index}`);
    const later = this.#segments.slice(position + 1);
    if (later.length > 0) await this.#writer.close();
    await this.#removeSegments(later);
    this.#segments.length = position + 1;
    await this.#writer.truncate(segment, segment.cutAt(index));
    this.#cache.truncateFrom(index);
    this.#lastIndex = index - 1;
  }

  #nextSequence(): number {
    const last = this.#segments[this.#segments.length - 1];
    return last === undefined ? this.#bootstrappedState().firstSegmentSequence : last.sequence + 1;
  }

  async #removeSegments(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) await this.#fileSystem.remove(segment.path);
    if (segments.length > 0) await this.#fileSystem.syncDirectory(this.#directory);
  }

  async #termAt(index: number): Promise<number | undefined> {
    const state = this.#bootstrappedState();
    if (index === state.snapshot.index) return state.snapshot.term;
    if (index < state.snapshot.index || index > this.#lastIndex) return undefined;
    const cached = this.#cache.slice(index, index + 1)?.[0];
    if (cached !== undefined) return cached.term;
    return (await this.#readEntries(index, index + 1))[0]?.term;
  }

  /** Reads entries `from <= index < to` from the segment files, checking every frame. */
  #readEntries(from: number, to: number): Promise<Entry[]> {
    return readSegmentEntries(this.#fileSystem, this.#segments, { from, to });
  }

  #bounds(state: StateRecord): LogBounds {
    return { snapshotIndex: state.snapshot.index, lastIndex: this.#lastIndex };
  }

  #bootstrappedState(): StateRecord {
    return assertBootstrapped(this.#state);
  }

  /** Throws unless the storage is open and has not failed. */
  #assertUsable(): void {
    this.#guard.assertUsable();
  }
}
