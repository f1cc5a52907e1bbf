import { BinaryReader, BinaryWriter } from '../codec/binary.js';
import { RaftError, type Entry } from '../core/index.js';
import type { SessionTable } from './session-table.js';
import type { ResultCodec } from './state-machine.js';

/**
 * A snapshot's data starts with the session table, then holds the state machine's own bytes: the
 * table is replicated state at the snapshot's index exactly as the application's state is, so it
 * travels to followers and survives restarts with it, and no storage or message format changes.
 * The section opens with a marker; data without it (a snapshot written before sessions existed)
 * restores with an empty table.
 */
const sectionMarker = Uint8Array.from([0x72, 0x6b, 0x73, 0x65, 0x73, 0x73, 0x00, 0x01]);
const sectionHeaderBytes = sectionMarker.byteLength + 4;

/** The session table as the first chunk, then the state machine's chunks. */
export async function* withSessionSection(
  table: Uint8Array,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const header = new BinaryWriter({ initialBytes: sectionHeaderBytes + table.byteLength });
  for (const byte of sectionMarker) header.u8(byte);
  header.u32(table.byteLength);
  const first = new Uint8Array(sectionHeaderBytes + table.byteLength);
  first.set(header.finish());
  first.set(table, sectionHeaderBytes);
  yield first;
  yield* source;
}

/**
 * Splits a snapshot's chunks: restores `table` from the session section (or clears it when there
 * is none) and returns the state machine's chunks, which start where the section ends.
 */
export async function takeSessionSection(
  chunks: AsyncIterable<Uint8Array>,
  table: SessionTable,
  codec: Pick<ResultCodec<unknown>, 'decode'>,
): Promise<AsyncIterable<Uint8Array>> {
  const iterator = chunks[Symbol.asyncIterator]();
  let buffered: Uint8Array = new Uint8Array(0);
  let exhausted = false;
  const fill = async (bytes: number): Promise<void> => {
    const parts: Uint8Array[] = [buffered];
    let total = buffered.byteLength;
    while (total < bytes && !exhausted) {
      const next = await iterator.next();
      if (next.done === true) exhausted = true;
      else {
        parts.push(next.value);
        total += next.value.byteLength;
      }
    }
    buffered = parts.length === 1 ? buffered : concat(parts, total);
  };
  await fill(sectionHeaderBytes);
  let rest = buffered;
  if (hasMarker(buffered)) {
    const length = new BinaryReader(buffered.subarray(sectionMarker.byteLength)).u32();
    await fill(sectionHeaderBytes + length);
    if (buffered.byteLength < sectionHeaderBytes + length) {
      throw new RaftError('CORRUPT_STORAGE', 'snapshot ends inside its session table');
    }
    table.restore(buffered.subarray(sectionHeaderBytes, sectionHeaderBytes + length), codec);
    rest = buffered.subarray(sectionHeaderBytes + length);
  } else {
    table.clear();
  }
  return (async function* () {
    if (rest.byteLength > 0) yield rest;
    if (exhausted) return;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      yield next.value;
    }
  })();
}

/**
 * Brings the table forward over entries a durable state machine applied before a restart (after
 * the snapshot the table came from): the state machine is not asked again, so their results are
 * not known, only that they applied.
 */
export function replaySessionEntries(table: SessionTable, entries: readonly Entry[]): void {
  for (const entry of entries) {
    if (entry.kind !== 'session') continue;
    const outcome = table.apply(entry);
    if (outcome.kind === 'apply') table.recordWithoutResult(outcome.sessionId, outcome.sequence);
  }
}

function hasMarker(bytes: Uint8Array): boolean {
  if (bytes.byteLength < sectionHeaderBytes) return false;
  return sectionMarker.every((byte, position) => bytes[position] === byte);
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
