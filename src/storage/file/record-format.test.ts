import { describe, expect, it } from 'vitest';
import { BinaryWriter } from '../../codec/binary.js';
import {
  decodeHardStateRecord,
  decodeSegmentHeader,
  decodeSegmentRecord,
  decodeStateFile,
  encodeSegmentHeader,
  encodeStateFile,
  entryRecordIndex,
  hardStateRecordVersion,
  hasValidFrameAfter,
  parseSegmentFileName,
  readFrame,
  segmentFileName,
  segmentHeaderBytes,
  writeEntryFrame,
  writeHardStateFrame,
} from './record-format.js';
import { bootstrapSnapshot, configurationOf } from '../../core/index.js';

function twoFrames(): Uint8Array {
  const writer = new BinaryWriter();
  writeEntryFrame(writer, { kind: 'noop', index: 7, term: 2 });
  writeHardStateFrame(writer, { version: 3, hardState: { term: 2, vote: 'a', commit: 7 } });
  return writer.finish().slice();
}

describe('FileStorage record format', () => {
  it('tells an entry index and a hard-state version without decoding the record', () => {
    const bytes = twoFrames();
    const entry = readFrame(bytes, 0);
    if (entry.kind !== 'frame') throw new Error(`expected a frame, got ${entry.kind}`);
    const hardState = readFrame(bytes, entry.end);
    if (hardState.kind !== 'frame') throw new Error(`expected a frame, got ${hardState.kind}`);
    expect(entryRecordIndex(entry.payload)).toBe(7);
    expect(hardStateRecordVersion(entry.payload)).toBeNull();
    expect(hardStateRecordVersion(hardState.payload)).toBe(3);
    expect(entryRecordIndex(hardState.payload)).toBeNull();
    expect(decodeHardStateRecord(hardState.payload)).toEqual({
      version: 3,
      hardState: { term: 2, vote: 'a', commit: 7 },
    });
    expect(() => decodeHardStateRecord(entry.payload)).toThrow(/not a hard state/);
  });

  it('reads back what it framed, record by record', () => {
    const bytes = twoFrames();
    const first = readFrame(bytes, 0);
    if (first.kind !== 'frame') throw new Error(`expected a frame, got ${first.kind}`);
    expect(decodeSegmentRecord(first.payload)).toEqual({
      type: 'entry',
      entry: { kind: 'noop', index: 7, term: 2 },
    });
    const second = readFrame(bytes, first.end);
    if (second.kind !== 'frame') throw new Error(`expected a frame, got ${second.kind}`);
    expect(decodeSegmentRecord(second.payload)).toEqual({
      type: 'hard-state',
      value: { version: 3, hardState: { term: 2, vote: 'a', commit: 7 } },
    });
    expect(readFrame(bytes, second.end)).toEqual({ kind: 'end' });
  });

  it('never takes zero bytes for a frame', () => {
    expect(readFrame(new Uint8Array(64), 0).kind).toBe('damaged');
    expect(hasValidFrameAfter(new Uint8Array(64), -1)).toBe(false);
  });

  it('catches a damaged length as well as damaged data', () => {
    for (const position of [0, 5, 9, 12]) {
      const bytes = twoFrames();
      bytes[position] = bytes[position]! ^ 1;
      expect(readFrame(bytes, 0).kind).toBe('damaged');
    }
  });

  it('finds a valid frame after damage, and none after a torn last frame', () => {
    const bytes = twoFrames();
    const first = readFrame(bytes, 0);
    if (first.kind !== 'frame') throw new Error('expected a frame');
    const damaged = bytes.slice();
    damaged[3] = 0xff;
    expect(hasValidFrameAfter(damaged, 0)).toBe(true);
    expect(hasValidFrameAfter(bytes.subarray(0, bytes.length - 1), first.end)).toBe(false);
  });

  it('round-trips segment headers and state files and rejects damaged ones', () => {
    const header = encodeSegmentHeader({ sequence: 42, firstIndex: 1001 });
    expect(header.length).toBe(segmentHeaderBytes);
    expect(decodeSegmentHeader(header)).toEqual({ sequence: 42, firstIndex: 1001 });
    header[10] = header[10]! ^ 1;
    expect(decodeSegmentHeader(header)).toBeNull();

    const state = {
      snapshot: bootstrapSnapshot(configurationOf(['a', 'b'])),
      hardState: { version: 9, hardState: { term: 4, vote: null, commit: 0 } },
      firstSegmentSequence: 3,
    };
    const file = encodeStateFile(state);
    expect(decodeStateFile(file)).toEqual(state);
    expect(decodeStateFile(file.subarray(0, file.length - 1))).toBeNull();
  });

  it('names segments so that names sort in sequence order', () => {
    expect(segmentFileName(12)).toBe('segment-0000000000000012.log');
    expect(parseSegmentFileName(segmentFileName(12))).toBe(12);
    expect(parseSegmentFileName('segment-12.log')).toBeNull();
    expect(segmentFileName(9) < segmentFileName(10)).toBe(true);
  });
});
