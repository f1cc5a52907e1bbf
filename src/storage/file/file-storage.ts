import { join, resolve } from 'node:path';
import { BinaryWriter } from '../../codec/binary.js';
import { RaftError, type Entry, type HardState, type SnapshotMeta } from '../../core/index.js';
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
import { nodeFileSystem, type StorageFile, type StorageFileSystem } from './file-system.js';
import { corruptStorage, listSegmentSequences, recoverLog, type Repair } from './log-recovery.js';
import {
  decodeSegmentRecord,
  encodeSegmentHeader,
  frameHeaderBytes,
  framePayloadBytesMax,
  readFrame,
  segmentHeaderBytes,
  writeEntryFrame,
  writeHardStateFrame,
  type StateRecord,
  type VersionedHardState,
} from './record-format.js';
import { Segment } from './segment.js';
import { readBrokenMark, writeBrokenMark } from './broken-mark-file.js';
import { readStateFile, stateTemporaryFileName, writeStateFile } from './state-file.js';
import { FileSnapshotStore } from './snapshot-files.js';

/** Default size at which the active segment is closed and a new one started. */
export const defaultSegmentBytesMax = 64 * 1024 * 1024;
/** Default number of recent entries served from memory. */
export const defaultCacheEntriesMax = 8192;
/** Default command bytes of recent entries served from memory. */
export const defaultCacheBytesMax = 32 * 1024 * 1024;

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
}

/** One record encoded for a save, located within the batch's bytes. */
interface EncodedRecord {
  readonly start: number;
  readonly end: number;
  readonly isEntry: boolean;
}

function fileErrorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

function checkPositiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RaftError('INVALID_CONFIG', `${name} must be a positive integer`, {
      details: { [name]: value },
    });
  }
  return value;
}

/**
 * A durable {@link LogStorage} in a directory of append-only segment files, using nothing but
 * Node's standard library.
 *
 * Each `save` appends one frame per entry (and one for the hard state) and calls fdatasync once
 * (group commit); a batch that crosses a segment boundary syncs the full segment before starting
 * the next. Every frame carries its length and a CRC-32C. The compaction marker lives in a small
 * state file replaced atomically (temporary file, fsync, rename, directory fsync). Recovery on
 * `open` cuts a torn tail and refuses with `CORRUPT_STORAGE` when damage is followed by valid
 * records. After any failed write or sync the storage refuses every further call with
 * `STORAGE_FAILED`. See docs/storage.md for the format.
 */
export class FileStorage implements LogStorage {
  readonly #directory: string;
  readonly #fileSystem: StorageFileSystem;
  readonly #segmentBytesMax: number;
  readonly #cache: EntryCache;
  readonly #lock: DirectoryLock;
  readonly #snapshots: FileSnapshotStore;
  #open = false;
  #state: StateRecord | null = null;
  #hardState: VersionedHardState = { version: 0, hardState: { term: 0, vote: null, commit: 0 } };
  #segments: Segment[] = [];
  /** Open for writing on the last segment, when there is one. */
  #activeFile: StorageFile | null = null;
  #lastIndex = 0;
  #failure: RaftError | null = null;
  /** Calls run one at a time in arrival order, so close waits for whatever is in flight. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: FileStorageOptions) {
    this.#directory = resolve(options.directory);
    this.#fileSystem = options.fileSystem ?? nodeFileSystem;
    this.#segmentBytesMax = checkPositiveInteger(
      options.segmentBytesMax ?? defaultSegmentBytesMax,
      'segmentBytesMax',
    );
    this.#cache = new EntryCache({
      entriesMax: checkPositiveInteger(
        options.cacheEntriesMax ?? defaultCacheEntriesMax,
        'cacheEntriesMax',
      ),
      bytesMax: checkPositiveInteger(
        options.cacheBytesMax ?? defaultCacheBytesMax,
        'cacheBytesMax',
      ),
    });
    this.#lock = new DirectoryLock(this.#fileSystem, this.#directory);
    this.#snapshots = new FileSnapshotStore(this.#fileSystem, this.#directory);
  }

  /** The directory this storage lives in, as an absolute path. */
  get directory(): string {
    return this.#directory;
  }

  open(): Promise<StoredState | null> {
    return this.#serialize(async () => {
      if (!this.#open) await this.#openFiles();
      const state = this.#state;
      if (state === null) return null;
      const broken = await readBrokenMark(this.#fileSystem, this.#directory);
      return {
        hardState: copyHardState(this.#hardState.hardState),
        snapshot: copySnapshotMeta(state.snapshot),
        lastIndex: this.#lastIndex,
        ...(broken === null ? {} : { broken }),
      };
    });
  }

  /** Durably records (or with `null` clears) the broken mark that `open` reports. */
  setBroken(reason: string | null): Promise<void> {
    return this.#serialize(async () => {
      if (!this.#open) await this.#openFiles();
      await writeBrokenMark(this.#fileSystem, this.#directory, reason);
    });
  }

  bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    return this.#serialize(async () => {
      this.#assertUsable();
      if (this.#state !== null) {
        throw new RaftError(
          'INVARIANT',
          'invalid storage call: bootstrap on a bootstrapped storage',
        );
      }
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
      const { bytes, records } = encodeRecords(entries, hardState);
      const first = entries[0];
      await this.#guardWrite(async () => {
        if (first !== undefined && first.index <= this.#lastIndex)
          await this.#truncateFrom(first.index);
        await this.#appendRecords(bytes, records);
      });
      this.#cache.append(entries.map(copyEntry));
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
      const fromCache =
        cached === null ? await this.#readEntries(diskTo, to) : cached.map(copyEntry);
      return [...fromDisk, ...fromCache];
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
        if (survivors.length === 0) await this.#closeActiveFile();
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

  close(): Promise<void> {
    return this.#serialize(async () => {
      try {
        await this.#closeActiveFile();
      } finally {
        this.#open = false;
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
      await this.#recover();
      this.#failure = null;
      this.#open = true;
    } catch (error) {
      this.#segments = [];
      this.#state = null;
      this.#cache.clear();
      await this.#closeActiveFile().catch(() => undefined);
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
      cache: this.#cache,
      segmentFileBytesMax: 2 * Math.max(this.#segmentBytesMax, framePayloadBytesMax),
    });
    await this.#applyRepairs(recovered.repairs);
    this.#state = state;
    this.#hardState = recovered.hardState;
    this.#segments = recovered.segments;
    this.#lastIndex = recovered.lastIndex;
    const last = this.#segments[this.#segments.length - 1];
    if (last !== undefined) this.#activeFile = await this.#fileSystem.open(last.path, 'write');
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
      this.#failure = new RaftError(
        'STORAGE_FAILED',
        `write to ${this.#directory} failed (${fileErrorCode(error)}); the storage refuses further writes`,
        { cause: error, details: { directory: this.#directory } },
      );
      throw this.#failure;
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
    if (later.length > 0) await this.#closeActiveFile();
    await this.#removeSegments(later);
    this.#segments.length = position + 1;
    const cut = segment.cutAt(index);
    this.#activeFile ??= await this.#fileSystem.open(segment.path, 'write');
    // Synced before the new entries go in, so no crash can leave new records followed by remains
    // of the discarded ones.
    await this.#activeFile.truncate(cut);
    await this.#activeFile.datasync();
    this.#cache.truncateFrom(index);
    this.#lastIndex = index - 1;
  }

  async #appendRecords(bytes: Uint8Array, records: readonly EncodedRecord[]): Promise<void> {
    let position = 0;
    while (position < records.length) {
      const first = records[position]!;
      const { segment, file, created } = await this.#segmentFor(first.end - first.start);
      let end = position + 1;
      while (
        end < records.length &&
        segment.size + (records[end]!.end - first.start) <= this.#segmentBytesMax
      ) {
        end++;
      }
      const chunk = bytes.subarray(first.start, records[end - 1]!.end);
      if (created) {
        const withHeader = new Uint8Array(segmentHeaderBytes + chunk.length);
        withHeader.set(encodeSegmentHeader(segment), 0);
        withHeader.set(chunk, segmentHeaderBytes);
        await file.write(withHeader, 0);
      } else {
        await file.write(chunk, segment.size);
      }
      await file.datasync();
      if (created) await this.#fileSystem.syncDirectory(this.#directory);
      for (const record of records.slice(position, end)) {
        const offset = segment.size + (record.start - first.start);
        if (record.isEntry) segment.addEntry(offset, offset + (record.end - record.start));
      }
      segment.size += chunk.length;
      position = end;
    }
  }

  /** The segment the next record goes to, starting a new one when the active one is full. */
  async #segmentFor(
    recordBytes: number,
  ): Promise<{ segment: Segment; file: StorageFile; created: boolean }> {
    const last = this.#segments[this.#segments.length - 1];
    const hasRoom =
      last !== undefined &&
      (last.size === segmentHeaderBytes || last.size + recordBytes <= this.#segmentBytesMax);
    if (last !== undefined && hasRoom && this.#activeFile !== null) {
      return { segment: last, file: this.#activeFile, created: false };
    }
    await this.#closeActiveFile();
    const segment = new Segment({
      directory: this.#directory,
      sequence: this.#nextSequence(),
      firstIndex: last?.nextIndex ?? this.#lastIndex + 1,
      size: segmentHeaderBytes,
    });
    const file = await this.#fileSystem.open(segment.path, 'create');
    this.#activeFile = file;
    this.#segments.push(segment);
    return { segment, file, created: true };
  }

  #nextSequence(): number {
    const last = this.#segments[this.#segments.length - 1];
    return last === undefined ? this.#bootstrappedState().firstSegmentSequence : last.sequence + 1;
  }

  async #removeSegments(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) await this.#fileSystem.remove(segment.path);
    if (segments.length > 0) await this.#fileSystem.syncDirectory(this.#directory);
  }

  async #closeActiveFile(): Promise<void> {
    const file = this.#activeFile;
    this.#activeFile = null;
    await file?.close();
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
  async #readEntries(from: number, to: number): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (const segment of this.#segments) {
      const start = Math.max(from, segment.firstIndex);
      const end = Math.min(to, segment.nextIndex);
      if (start >= end) continue;
      const range = segment.byteRange(start, end);
      const bytes = new Uint8Array(range.end - range.start);
      const file = await this.#fileSystem.open(segment.path, 'read');
      try {
        const read = await file.read(bytes, range.start);
        if (read !== bytes.length)
          throw corruptStorage(segment.path, range.start + read, 'file is shorter than its index');
      } finally {
        await file.close();
      }
      entries.push(
        ...decodeEntryFrames(bytes, { path: segment.path, offset: range.start, from: start }),
      );
    }
    return entries;
  }

  #bounds(state: StateRecord): LogBounds {
    return { snapshotIndex: state.snapshot.index, lastIndex: this.#lastIndex };
  }

  #bootstrappedState(): StateRecord {
    if (this.#state === null) {
      throw new RaftError('INVARIANT', 'invalid storage call: storage is not bootstrapped');
    }
    return this.#state;
  }

  /** Throws unless the storage is open and has not failed. */
  #assertUsable(): void {
    if (!this.#open) throw new RaftError('INVARIANT', 'invalid storage call: storage is not open');
    if (this.#failure !== null) {
      throw new RaftError('STORAGE_FAILED', 'storage refuses calls after an earlier failure', {
        cause: this.#failure,
      });
    }
  }
}

/** Encodes a batch's records back to back, remembering where each one lies. */
function encodeRecords(
  entries: readonly Entry[],
  hardState: VersionedHardState | null,
): { bytes: Uint8Array; records: EncodedRecord[] } {
  const writer = new BinaryWriter();
  const records: EncodedRecord[] = [];
  for (const entry of entries) {
    const start = writer.length;
    writeEntryFrame(writer, entry);
    if (writer.length - start - frameHeaderBytes > framePayloadBytesMax) {
      throw new RaftError('INVARIANT', `invalid storage call: entry ${entry.index} is too large`, {
        details: { index: entry.index, payloadBytesMax: framePayloadBytesMax },
      });
    }
    records.push({ start, end: writer.length, isEntry: true });
  }
  if (hardState !== null) {
    const start = writer.length;
    writeHardStateFrame(writer, hardState);
    records.push({ start, end: writer.length, isEntry: false });
  }
  return { bytes: writer.finish(), records };
}

/** Decodes the entry frames in bytes read back from a segment; hard-state records are skipped. */
function decodeEntryFrames(
  bytes: Uint8Array,
  origin: { path: string; offset: number; from: number },
): Entry[] {
  const entries: Entry[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const frame = readFrame(bytes, offset);
    if (frame.kind !== 'frame') {
      throw corruptStorage(
        origin.path,
        origin.offset + offset,
        frame.kind === 'damaged' ? frame.reason : 'truncated',
      );
    }
    let record;
    try {
      record = decodeSegmentRecord(frame.payload);
    } catch (error) {
      throw corruptStorage(origin.path, origin.offset + offset, 'record does not decode', error);
    }
    if (record.type === 'entry') {
      const expected = origin.from + entries.length;
      if (record.entry.index !== expected) {
        throw corruptStorage(
          origin.path,
          origin.offset + offset,
          `expected entry ${expected}, found ${record.entry.index}`,
        );
      }
      entries.push(copyEntry(record.entry));
    }
    offset = frame.end;
  }
  return entries;
}
