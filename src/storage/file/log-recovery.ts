import { join } from 'node:path';
import { RaftError } from '../../core/index.js';
import type { StorageFileSystem } from './file-system.js';
import {
  decodeSegmentHeader,
  decodeHardStateRecord,
  entryRecordIndex,
  hardStateRecordVersion,
  hasValidFrameAfter,
  parseSegmentFileName,
  readFrame,
  segmentFileName,
  segmentHeaderBytes,
  type StateRecord,
  type VersionedHardState,
} from './record-format.js';
import { Segment } from './segment.js';
import { readWholeFile } from './state-file.js';

/** A change recovery makes to the files once it has verified that everything else is intact. */
export type Repair =
  | { readonly kind: 'remove'; readonly path: string }
  | { readonly kind: 'truncate'; readonly path: string; readonly length: number };

/** The log as recovery found it. */
export interface RecoveredLog {
  /** Live segments in order; the last one is where appends go. */
  readonly segments: Segment[];
  /** The newest hard state among the state file and the segments' hard-state records. */
  readonly hardState: VersionedHardState;
  readonly lastIndex: number;
  /** Torn tails to cut and left-over segments to delete. */
  readonly repairs: Repair[];
}

/** What recovery needs to know. */
export interface RecoveryOptions {
  readonly fileSystem: StorageFileSystem;
  readonly directory: string;
  readonly state: StateRecord;
  /** Larger segment files are refused rather than read into memory. */
  readonly segmentFileBytesMax: number;
}

/** The error for bytes that were written whole once and are now wrong. */
export function corruptStorage(file: string, offset: number, reason: string, cause?: unknown) {
  return new RaftError('CORRUPT_STORAGE', `${file} is corrupt at byte ${offset}: ${reason}`, {
    details: { file, offset },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Segment sequence numbers in the directory, ascending. */
export async function listSegmentSequences(
  fileSystem: StorageFileSystem,
  directory: string,
): Promise<number[]> {
  const names = await fileSystem.list(directory);
  return names
    .map(parseSegmentFileName)
    .filter((sequence): sequence is number => sequence !== null)
    .sort((left, right) => left - right);
}

interface ScanContext {
  readonly options: RecoveryOptions;
  readonly repairs: Repair[];
  /** The newest hard-state record found so far that is newer than the state file's, undecoded. */
  newestHardState: { version: number; path: string; offset: number; payload: Uint8Array } | null;
  /** The index the next segment's first entry must have, once one segment has been read. */
  expectedIndex: number | null;
}

/**
 * Reads the state file's view of the log back from the segments, checking every frame.
 *
 * Only the last segment can have a torn tail: a segment is synced before the next one is created.
 * A damaged record with no valid record after it is such a tail (the write never completed and
 * was never acknowledged) and is cut. A damaged record followed by valid ones cannot come from an
 * interrupted append, so recovery refuses with `CORRUPT_STORAGE` naming the file and offset
 * rather than silently drop acknowledged entries. Nothing is changed on disk unless the whole log
 * checks out; the returned repairs are applied by the caller.
 */
export async function recoverLog(options: RecoveryOptions): Promise<RecoveredLog> {
  const { state, directory } = options;
  const sequences = await listSegmentSequences(options.fileSystem, directory);
  const context: ScanContext = {
    options,
    repairs: [],
    newestHardState: null,
    expectedIndex: null,
  };
  const live = sequences.filter((sequence) => sequence >= state.firstSegmentSequence);
  for (const sequence of sequences) {
    if (sequence < state.firstSegmentSequence) {
      context.repairs.push({ kind: 'remove', path: segmentPath(directory, sequence) });
    }
  }
  const segments: Segment[] = [];
  for (const [position, sequence] of live.entries()) {
    const expectedSequence = state.firstSegmentSequence + position;
    if (sequence !== expectedSequence) {
      throw corruptStorage(segmentPath(directory, expectedSequence), 0, 'segment file is missing');
    }
    const segment = await scanSegment(context, sequence, position === live.length - 1);
    if (segment !== null) segments.push(segment);
  }
  return {
    segments,
    hardState: decodeNewestHardState(context),
    lastIndex: checkLogBounds(segments, state),
    repairs: context.repairs,
  };
}

function segmentPath(directory: string, sequence: number): string {
  return join(directory, segmentFileName(sequence));
}

/** Checks that the live entries continue the marker, and returns the last index. */
function checkLogBounds(segments: readonly Segment[], state: StateRecord): number {
  const first = segments[0];
  const last = segments[segments.length - 1];
  if (first === undefined || last === undefined) return state.snapshot.index;
  if (first.firstIndex > state.snapshot.index + 1) {
    throw corruptStorage(
      first.path,
      0,
      `entries after snapshot index ${state.snapshot.index} are missing`,
    );
  }
  if (last.nextIndex - 1 < state.snapshot.index) {
    throw corruptStorage(
      last.path,
      last.size,
      `log ends before snapshot index ${state.snapshot.index}`,
    );
  }
  return last.nextIndex - 1;
}

async function scanSegment(
  context: ScanContext,
  sequence: number,
  isLast: boolean,
): Promise<Segment | null> {
  const { fileSystem, directory, segmentFileBytesMax } = context.options;
  const path = segmentPath(directory, sequence);
  const bytes = await readWholeFile(fileSystem, path, segmentFileBytesMax);
  const header = decodeSegmentHeader(bytes);
  if (header === null) {
    // A segment is created with its header and first records in one write: if the header is
    // damaged and nothing valid follows, that write was torn.
    if (isLast && !hasValidFrameAfter(bytes, -1)) {
      context.repairs.push({ kind: 'remove', path });
      return null;
    }
    throw corruptStorage(path, 0, 'damaged segment header');
  }
  if (header.sequence !== sequence) {
    throw corruptStorage(path, 0, `header names sequence ${header.sequence}`);
  }
  if (context.expectedIndex !== null && header.firstIndex !== context.expectedIndex) {
    throw corruptStorage(
      path,
      0,
      `expected first index ${context.expectedIndex}, found ${header.firstIndex}`,
    );
  }
  const segment = new Segment({ directory, sequence, firstIndex: header.firstIndex });
  scanRecords(context, { bytes, segment, isLast });
  context.expectedIndex = segment.nextIndex;
  return segment;
}

function scanRecords(
  context: ScanContext,
  scan: { bytes: Uint8Array; segment: Segment; isLast: boolean },
): void {
  const { bytes, segment, isLast } = scan;
  let offset = segmentHeaderBytes;
  for (;;) {
    const frame = readFrame(bytes, offset);
    if (frame.kind === 'end') break;
    if (frame.kind === 'damaged') {
      if (isLast && !hasValidFrameAfter(bytes, offset)) {
        context.repairs.push({ kind: 'truncate', path: segment.path, length: offset });
        break;
      }
      throw corruptStorage(segment.path, offset, frame.reason);
    }
    const entryIndex = entryRecordIndex(frame.payload);
    if (entryIndex !== null) {
      // An entry's checksum is checked and its place kept; it is decoded only when read. Behind
      // the compaction marker it never is, and the live ones are read once, by the node's
      // start-up: decoding them here as well made a restart decode and copy its tail twice.
      placeEntry(segment, entryIndex, offset, frame.end);
      offset = frame.end;
      continue;
    }
    const version = hardStateRecordVersion(frame.payload);
    if (version === null) {
      throw corruptStorage(segment.path, offset, 'record of an unknown type');
    }
    // Every save may add one of these: only the newest is decoded, once the scan has found it.
    if (version > (context.newestHardState?.version ?? context.options.state.hardState.version)) {
      context.newestHardState = { version, path: segment.path, offset, payload: frame.payload };
    }
    offset = frame.end;
  }
  segment.size = offset;
}

/** The hard state of the newest record the scan found, or the state file's when none is newer. */
function decodeNewestHardState(context: ScanContext): VersionedHardState {
  const newest = context.newestHardState;
  if (newest === null) return context.options.state.hardState;
  try {
    return decodeHardStateRecord(newest.payload);
  } catch (error) {
    throw corruptStorage(
      newest.path,
      newest.offset,
      'record with a valid checksum does not decode',
      error,
    );
  }
}

/** Records where the segment's next entry lies, refusing a gap or a repeat in the indexes. */
function placeEntry(segment: Segment, index: number, offset: number, end: number): void {
  if (index !== segment.nextIndex) {
    throw corruptStorage(
      segment.path,
      offset,
      `expected entry ${segment.nextIndex}, found ${index}`,
    );
  }
  segment.addEntry(offset, end);
}
