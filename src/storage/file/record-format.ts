import { BinaryReader, BinaryWriter } from '../../codec/binary.js';
import {
  readEntry,
  readHardState,
  readSnapshotMeta,
  writeEntry,
  writeHardState,
  writeSnapshotMeta,
} from '../../codec/entry-codec.js';
import type { Entry, HardState, SnapshotMeta } from '../../core/index.js';
import { crc32c } from '../../codec/crc32c.js';

/**
 * The on-disk format of FileStorage. Every value is little-endian.
 *
 * A frame is `u32 payloadLength | u32 crc32c(lengthBytes ++ payload) | payload`. Covering the
 * length with the checksum means a damaged length is caught like damaged data, and a run of zero
 * bytes (what a file system may leave after a crash) is never a valid frame.
 *
 * A payload starts with a record type byte. Segment files hold entry and hard-state records after
 * a header; the state file holds one state record after its own header.
 */

/** Bytes before a frame's payload: length and checksum. */
export const frameHeaderBytes = 8;
/** Largest payload a frame may carry: a 64 MiB command plus room for its entry header. */
export const framePayloadBytesMax = 64 * 1024 * 1024 + 1024;

const segmentMagic = 0x4753_4b52; // "RKSG" read as little-endian bytes
const stateMagic = 0x5453_4b52; // "RKST"
/** Bumped whenever the layout changes; a reader refuses versions it does not know. */
export const formatVersion = 1;
/** Segment header: magic, format version, sequence, first index, checksum of the preceding bytes. */
export const segmentHeaderBytes = 4 + 4 + 8 + 8 + 4;

/** Record type codes. Part of the format: never renumber. */
const recordTypes = { entry: 1, hardState: 2, state: 3 } as const;

/** What a segment header says about its file. */
export interface SegmentHeader {
  /** Position of the segment in the log; consecutive across the directory's segment files. */
  readonly sequence: number;
  /** The index the first entry in the segment has (or would have, while it holds none). */
  readonly firstIndex: number;
}

/** A hard state and the counter that orders it against copies elsewhere (see FileStorage). */
export interface VersionedHardState {
  readonly version: number;
  readonly hardState: HardState;
}

/** One decoded segment record. */
export type SegmentRecord =
  | { readonly type: 'entry'; readonly entry: Entry }
  | { readonly type: 'hard-state'; readonly value: VersionedHardState };

/** Everything the state file holds. */
export interface StateRecord {
  readonly snapshot: SnapshotMeta;
  readonly hardState: VersionedHardState;
  /**
   * The sequence number of the first segment that belongs to the log. Segments below it are left
   * over from a compaction that crashed before deleting them, so recovery can tell them apart
   * from a segment that went missing.
   */
  readonly firstSegmentSequence: number;
}

/** The name of the segment file with this sequence number; names sort in sequence order. */
export function segmentFileName(sequence: number): string {
  return `segment-${String(sequence).padStart(16, '0')}.log`;
}

/** The sequence number in a segment file name, or `null` for any other name. */
export function parseSegmentFileName(name: string): number | null {
  const match = /^segment-(\d{16})\.log$/.exec(name);
  return match === null ? null : Number(match[1]);
}

/** Encodes a segment header. */
export function encodeSegmentHeader(header: SegmentHeader): Uint8Array {
  const writer = new BinaryWriter({ initialBytes: segmentHeaderBytes });
  writer.u32(segmentMagic).u32(formatVersion).u64(header.sequence).u64(header.firstIndex);
  writer.u32(crc32c(writer.finish()));
  return writer.finish().slice();
}

/** Decodes a segment header, or returns `null` if the bytes are not a valid one. */
export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeader | null {
  if (bytes.length < segmentHeaderBytes) return null;
  const reader = new BinaryReader(bytes.subarray(0, segmentHeaderBytes));
  try {
    if (reader.u32() !== segmentMagic || reader.u32() !== formatVersion) return null;
    const sequence = reader.u64();
    const firstIndex = reader.u64();
    const checksum = reader.u32();
    if (checksum !== crc32c(bytes.subarray(0, segmentHeaderBytes - 4))) return null;
    return { sequence, firstIndex };
  } catch {
    return null;
  }
}

/** Starts a frame: reserves its header; the payload follows. Returns the frame's start offset. */
function beginFrame(writer: BinaryWriter): number {
  const start = writer.length;
  writer.u32(0).u32(0);
  return start;
}

/** Fills in a frame's length and checksum once its payload is written. */
function endFrame(writer: BinaryWriter, start: number): void {
  const payloadLength = writer.length - start - frameHeaderBytes;
  writer.u32At(start, payloadLength);
  const bytes = writer.finish();
  let checksum = crc32c(bytes.subarray(start, start + 4));
  checksum = crc32c(bytes.subarray(start + frameHeaderBytes), checksum);
  writer.u32At(start + 4, checksum);
}

/** Appends an entry record frame to `writer`. */
export function writeEntryFrame(writer: BinaryWriter, entry: Entry): void {
  const start = beginFrame(writer);
  writer.u8(recordTypes.entry);
  writeEntry(writer, entry);
  endFrame(writer, start);
}

/** Appends a hard-state record frame to `writer`. */
export function writeHardStateFrame(writer: BinaryWriter, value: VersionedHardState): void {
  const start = beginFrame(writer);
  writer.u8(recordTypes.hardState).u64(value.version);
  writeHardState(writer, value.hardState);
  endFrame(writer, start);
}

/** The complete state file: magic, format version, then one state frame. */
export function encodeStateFile(state: StateRecord): Uint8Array {
  const writer = new BinaryWriter();
  writer.u32(stateMagic).u32(formatVersion);
  const start = beginFrame(writer);
  writer.u8(recordTypes.state).u64(state.hardState.version).u64(state.firstSegmentSequence);
  writeSnapshotMeta(writer, state.snapshot);
  writeHardState(writer, state.hardState.hardState);
  endFrame(writer, start);
  return writer.finish().slice();
}

/** What {@link readFrame} found at an offset. */
export type FrameReading =
  | { readonly kind: 'frame'; readonly payload: Uint8Array; readonly end: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'damaged'; readonly reason: string };

/**
 * Reads the frame at `offset` in `bytes`: a whole frame whose checksum matches, the clean end of
 * the bytes, or damage (too short, a length over the limit, a checksum mismatch).
 */
export function readFrame(bytes: Uint8Array, offset: number): FrameReading {
  const remaining = bytes.length - offset;
  if (remaining === 0) return { kind: 'end' };
  if (remaining < frameHeaderBytes) return { kind: 'damaged', reason: 'incomplete frame header' };
  // Read in place: a start-up scans every frame of a segment, and views cost more than the bytes.
  const payloadLength = u32At(bytes, offset);
  const checksum = u32At(bytes, offset + 4);
  if (payloadLength === 0 || payloadLength > framePayloadBytesMax) {
    return { kind: 'damaged', reason: `implausible frame length ${payloadLength}` };
  }
  const end = offset + frameHeaderBytes + payloadLength;
  if (end > bytes.length) return { kind: 'damaged', reason: 'frame runs past the end of the file' };
  const lengthChecksum = crc32c(bytes, 0, offset, offset + 4);
  const actual = crc32c(bytes, lengthChecksum, offset + frameHeaderBytes, end);
  if (actual !== checksum) return { kind: 'damaged', reason: 'checksum mismatch' };
  return { kind: 'frame', payload: bytes.subarray(offset + frameHeaderBytes, end), end };
}

/** The little-endian u32 at `offset`. */
function u32At(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16)) +
    bytes[offset + 3]! * 0x100_0000
  );
}

/**
 * Whether any valid frame starts after `offset`. Used to tell a torn tail (garbage up to the end:
 * the last write never completed) from corruption in the middle (valid records follow).
 */
export function hasValidFrameAfter(bytes: Uint8Array, offset: number): boolean {
  for (let candidate = offset + 1; candidate + frameHeaderBytes < bytes.length; candidate++) {
    if (readFrame(bytes, candidate).kind === 'frame') return true;
  }
  return false;
}

/**
 * The index of the entry a segment record payload holds, read without decoding the entry, or null
 * for any other record (or one too short to tell).
 */
export function entryRecordIndex(payload: Uint8Array): number | null {
  // Record type, entry kind, then the index as a little-endian u64.
  if (payload.length < 10 || payload[0] !== recordTypes.entry) return null;
  return u32At(payload, 6) * 0x1_0000_0000 + u32At(payload, 2);
}

/**
 * The version of the hard state a segment record payload holds, read without decoding it, or null
 * for any other record (or one too short to tell).
 */
export function hardStateRecordVersion(payload: Uint8Array): number | null {
  // Record type, then the version as a little-endian u64.
  if (payload.length < 9 || payload[0] !== recordTypes.hardState) return null;
  return u32At(payload, 5) * 0x1_0000_0000 + u32At(payload, 1);
}

/** Decodes a segment record payload; throws RaftError `INVALID_MESSAGE` if it is malformed. */
export function decodeSegmentRecord(payload: Uint8Array): SegmentRecord {
  const reader = new BinaryReader(payload);
  const type = reader.u8();
  let record: SegmentRecord;
  if (type === recordTypes.entry) {
    record = { type: 'entry', entry: readEntry(reader) };
  } else if (type === recordTypes.hardState) {
    record = { type: 'hard-state', value: readVersionedHardState(reader) };
  } else {
    throw new Error(`unknown segment record type ${type}`);
  }
  reader.end();
  return record;
}

/** Decodes a hard-state record payload; throws if it is malformed or another kind of record. */
export function decodeHardStateRecord(payload: Uint8Array): VersionedHardState {
  const reader = new BinaryReader(payload);
  const type = reader.u8();
  if (type !== recordTypes.hardState)
    throw new Error(`segment record type ${type} is not a hard state`);
  const value = readVersionedHardState(reader);
  reader.end();
  return value;
}

function readVersionedHardState(reader: BinaryReader): VersionedHardState {
  const version = reader.u64();
  return { version, hardState: readHardState(reader) };
}

/** Decodes a state file, or returns `null` when its header or frame is damaged. */
export function decodeStateFile(bytes: Uint8Array): StateRecord | null {
  if (bytes.length < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  if (view.getUint32(0, true) !== stateMagic || view.getUint32(4, true) !== formatVersion) {
    return null;
  }
  const frame = readFrame(bytes, 8);
  if (frame.kind !== 'frame' || frame.end !== bytes.length) return null;
  const reader = new BinaryReader(frame.payload);
  if (reader.u8() !== recordTypes.state) return null;
  const version = reader.u64();
  const firstSegmentSequence = reader.u64();
  const snapshot = readSnapshotMeta(reader);
  const hardState = readHardState(reader);
  reader.end();
  return { snapshot, hardState: { version, hardState }, firstSegmentSequence };
}
