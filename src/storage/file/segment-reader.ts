import type { Entry } from '../../core/index.js';
import type { StorageFileSystem } from './file-system.js';
import { corruptStorage } from './log-recovery.js';
import { decodeSegmentRecord, readFrame } from './record-format.js';
import type { Segment } from './segment.js';

/**
 * Reads entries `from <= index < to` back from the segment files with one positioned read per
 * segment, checking every frame: a short file, a damaged frame or an unexpected index is
 * `CORRUPT_STORAGE` naming the file and the offset. The entries' bytes are views of the buffers
 * read here, which nothing else holds, so they belong to the caller without a copy.
 */
export async function readSegmentEntries(
  fileSystem: StorageFileSystem,
  segments: readonly Segment[],
  range: { readonly from: number; readonly to: number },
): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const segment of segments) {
    const start = Math.max(range.from, segment.firstIndex);
    const end = Math.min(range.to, segment.nextIndex);
    if (start >= end) continue;
    const bytesRange = segment.byteRange(start, end);
    const bytes = new Uint8Array(bytesRange.end - bytesRange.start);
    const file = await fileSystem.open(segment.path, 'read');
    try {
      const read = await file.read(bytes, bytesRange.start);
      if (read !== bytes.length) {
        throw corruptStorage(
          segment.path,
          bytesRange.start + read,
          'file is shorter than its index',
        );
      }
    } finally {
      await file.close();
    }
    // Decoded straight into the result: spreading a segment's entries into one push call passes
    // each as an argument on the stack, which overflows near a hundred thousand entries.
    decodeEntryFrames(
      bytes,
      { path: segment.path, offset: bytesRange.start, from: start },
      entries,
    );
  }
  return entries;
}

/**
 * Decodes the entry frames in bytes read back from a segment onto the end of `entries`; hard-state
 * records are skipped.
 */
function decodeEntryFrames(
  bytes: Uint8Array,
  origin: { path: string; offset: number; from: number },
  entries: Entry[],
): void {
  const first = entries.length;
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
      const expected = origin.from + entries.length - first;
      if (record.entry.index !== expected) {
        throw corruptStorage(
          origin.path,
          origin.offset + offset,
          `expected entry ${expected}, found ${record.entry.index}`,
        );
      }
      entries.push(record.entry);
    }
    offset = frame.end;
  }
}
