import { BinaryWriter } from '../../codec/binary.js';
import { RaftError, type Entry } from '../../core/index.js';
import type { StorageFile, StorageFileSystem } from './file-system.js';
import {
  encodeSegmentHeader,
  frameHeaderBytes,
  framePayloadBytesMax,
  segmentHeaderBytes,
  writeEntryFrame,
  writeHardStateFrame,
  type VersionedHardState,
} from './record-format.js';
import { Segment } from './segment.js';

/** One record encoded for a save, located within the batch's bytes. */
export interface EncodedRecord {
  readonly start: number;
  readonly end: number;
  readonly isEntry: boolean;
}

/** A save's records encoded back to back, before any byte is written. */
export interface EncodedBatch {
  readonly bytes: Uint8Array;
  readonly records: readonly EncodedRecord[];
}

/**
 * Encodes a batch's records back to back, remembering where each one lies. An entry too large for
 * one frame is refused with `INVARIANT` before anything is written.
 */
export function encodeRecords(
  entries: readonly Entry[],
  hardState: VersionedHardState | null,
): EncodedBatch {
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

/** Where the first segment starts when the log has none yet. */
export interface FirstSegment {
  readonly sequence: number;
  readonly firstIndex: number;
}

/**
 * The append side of the segment files: keeps the last segment open, starts a new segment when it
 * is full, and syncs once per segment a batch touches (group commit). Segments are opened with
 * `syncWrites`, so on a file system that grants it (`O_DSYNC`) the write is the sync: one trip to
 * the disk thread per save instead of a write and then an fdatasync, each waiting for the event
 * loop to start the next.
 */
export class SegmentWriter {
  readonly #fileSystem: StorageFileSystem;
  readonly #directory: string;
  readonly #segmentBytesMax: number;
  /** Open for writing on the last segment, when there is one. */
  #activeFile: StorageFile | null = null;

  constructor(options: {
    fileSystem: StorageFileSystem;
    directory: string;
    segmentBytesMax: number;
  }) {
    this.#fileSystem = options.fileSystem;
    this.#directory = options.directory;
    this.#segmentBytesMax = options.segmentBytesMax;
  }

  /** After recovery: appends continue in `last`, the newest segment. */
  async resume(last: Segment | undefined): Promise<void> {
    if (last !== undefined) this.#activeFile = await this.#openForAppends(last.path, 'write');
  }

  /**
   * Appends an encoded batch after the last of `segments`, adding new segments to the array as
   * they are started. Resolves once every byte is durable.
   */
  async append(segments: Segment[], batch: EncodedBatch, first: FirstSegment): Promise<void> {
    const { bytes, records } = batch;
    let position = 0;
    while (position < records.length) {
      const head = records[position]!;
      const { segment, file, created } = await this.#segmentFor(
        segments,
        head.end - head.start,
        first,
      );
      let end = position + 1;
      while (
        end < records.length &&
        segment.size + (records[end]!.end - head.start) <= this.#segmentBytesMax
      ) {
        end++;
      }
      const chunk = bytes.subarray(head.start, records[end - 1]!.end);
      if (created) {
        const withHeader = new Uint8Array(segmentHeaderBytes + chunk.length);
        withHeader.set(encodeSegmentHeader(segment), 0);
        withHeader.set(chunk, segmentHeaderBytes);
        await file.write(withHeader, 0);
      } else {
        await file.write(chunk, segment.size);
      }
      if (file.syncsWrites !== true) await file.datasync();
      if (created) await this.#fileSystem.syncDirectory(this.#directory);
      for (const record of records.slice(position, end)) {
        const offset = segment.size + (record.start - head.start);
        if (record.isEntry) segment.addEntry(offset, offset + (record.end - record.start));
      }
      segment.size += chunk.length;
      position = end;
    }
  }

  /** The segment the next record goes to, starting a new one when the active one is full. */
  async #segmentFor(
    segments: Segment[],
    recordBytes: number,
    first: FirstSegment,
  ): Promise<{ segment: Segment; file: StorageFile; created: boolean }> {
    const last = segments[segments.length - 1];
    const hasRoom =
      last !== undefined &&
      (last.size === segmentHeaderBytes || last.size + recordBytes <= this.#segmentBytesMax);
    if (last !== undefined && hasRoom && this.#activeFile !== null) {
      return { segment: last, file: this.#activeFile, created: false };
    }
    await this.close();
    const segment = new Segment({
      directory: this.#directory,
      sequence: last === undefined ? first.sequence : last.sequence + 1,
      firstIndex: last?.nextIndex ?? first.firstIndex,
      size: segmentHeaderBytes,
    });
    const file = await this.#openForAppends(segment.path, 'create');
    this.#activeFile = file;
    segments.push(segment);
    return { segment, file, created: true };
  }

  /**
   * Cuts `segment`, now the last one, at byte `cut`. Synced before new entries go in, so no crash
   * can leave new records followed by remains of the discarded ones.
   */
  async truncate(segment: Segment, cut: number): Promise<void> {
    this.#activeFile ??= await this.#openForAppends(segment.path, 'write');
    await this.#activeFile.truncate(cut);
    await this.#activeFile.datasync();
  }

  #openForAppends(path: string, mode: 'write' | 'create'): Promise<StorageFile> {
    return this.#fileSystem.open(path, mode, { syncWrites: true });
  }

  /** Closes the last segment's file; the next append or truncate reopens what it needs. */
  async close(): Promise<void> {
    const file = this.#activeFile;
    this.#activeFile = null;
    await file?.close();
  }
}
