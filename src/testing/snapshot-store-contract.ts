import { describe, expect, it } from 'vitest';
import { crc32c } from '../codec/crc32c.js';
import { RaftError, configurationOf, type SnapshotMeta } from '../core/index.js';
import type { LogStorage, StoredState } from '../storage/log-storage.js';

/** The part of a contract session the snapshot tests use. */
export interface SnapshotSession {
  readonly storage: LogStorage;
  reopen(): Promise<StoredState | null>;
  crash(): Promise<StoredState | null>;
}

type Runner = (test: (session: SnapshotSession) => Promise<void>) => Promise<void>;

const configuration = configurationOf(['n1', 'n2', 'n3'], { learners: ['n4'] });

function meta(index: number, term = 1): SnapshotMeta {
  return { index, term, configuration, settings: { preVote: true, checkQuorum: false } };
}

/** Deterministic bytes that differ at every position, so a misplaced chunk is visible. */
function pattern(bytes: number, seed: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let position = 0; position < bytes; position++) {
    data[position] = (position * 31 + seed * 7 + (position >> 8)) & 0xff;
  }
  return data;
}

/** Writes `data` in chunks of `chunkBytes` and publishes it with its checksum. */
async function writeSnapshot(
  storage: LogStorage,
  snapshot: SnapshotMeta,
  data: Uint8Array,
  chunkBytes = 4096,
) {
  const writer = await storage.createSnapshot(snapshot);
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    await writer.write(data.subarray(offset, offset + chunkBytes));
  }
  return writer.publish(crc32c(data));
}

/** Reads a whole published snapshot back through windows of `bytesMax`. */
async function readWhole(storage: LogStorage, index: number, bytesMax: number) {
  const parts: Uint8Array[] = [];
  for (let offset = 0; ;) {
    const part = await storage.readSnapshot(index, offset, bytesMax);
    if (part === null) return null;
    if (part.byteLength === 0) break;
    parts.push(part);
    offset += part.byteLength;
  }
  return Buffer.concat(parts);
}

async function expectInvariant(promise: Promise<unknown>): Promise<void> {
  const outcome = await promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(RaftError);
  expect((outcome as RaftError).code).toBe('INVARIANT');
}

/**
 * The snapshot data part of the LogStorage contract: publish is atomic and durable, unpublished
 * data is never visible and never survives a reopen, a newer snapshot replaces the older one, and
 * reads return exactly the bytes written at any offset.
 */
export function registerSnapshotStoreTests(withBootstrapped: Runner, crashes: boolean): void {
  describe('snapshot data', () => {
    it('holds none at first', () =>
      withBootstrapped(async (session) => {
        expect(await session.storage.latestSnapshot()).toBeNull();
        expect(await session.storage.readSnapshot(1, 0, 10)).toBeNull();
      }));

    it('publishes chunks as one snapshot, read back exactly at any offset, also after reopen', () =>
      withBootstrapped(async (session) => {
        const data = pattern(300_001, 1);
        const stored = await writeSnapshot(session.storage, meta(40, 2), data);
        const expected = { meta: meta(40, 2), bytes: data.byteLength, checksum: crc32c(data) };
        expect(stored).toEqual(expected);
        expect(await session.storage.latestSnapshot()).toEqual(expected);
        expect(Buffer.compare((await readWhole(session.storage, 40, 65_536))!, data)).toBe(0);
        expect(await session.storage.readSnapshot(40, 1000, 7)).toEqual(data.slice(1000, 1007));
        expect(await session.storage.readSnapshot(40, data.byteLength, 7)).toEqual(
          new Uint8Array(),
        );
        await session.reopen();
        expect(await session.storage.latestSnapshot()).toEqual(expected);
        expect(Buffer.compare((await readWhole(session.storage, 40, 100_000))!, data)).toBe(0);
      }));

    it('publishes an empty snapshot', () =>
      withBootstrapped(async (session) => {
        await writeSnapshot(session.storage, meta(3), new Uint8Array());
        expect(await session.storage.latestSnapshot()).toMatchObject({ bytes: 0 });
        expect(await session.storage.readSnapshot(3, 0, 10)).toEqual(new Uint8Array());
      }));

    it('never shows unpublished data, and discards it on reopen, keeping the published one', () =>
      withBootstrapped(async (session) => {
        const first = pattern(10_000, 2);
        await writeSnapshot(session.storage, meta(10), first);
        const writer = await session.storage.createSnapshot(meta(20));
        await writer.write(pattern(5000, 3));
        expect((await session.storage.latestSnapshot())?.meta.index).toBe(10);
        expect(await session.storage.readSnapshot(20, 0, 10)).toBeNull();
        await session.reopen();
        expect((await session.storage.latestSnapshot())?.meta.index).toBe(10);
        expect(Buffer.compare((await readWhole(session.storage, 10, 4096))!, first)).toBe(0);
      }));

    it('replaces the older snapshot with a newer one, and refuses an older one', () =>
      withBootstrapped(async (session) => {
        await writeSnapshot(session.storage, meta(10), pattern(1000, 4));
        const newer = pattern(2000, 5);
        await writeSnapshot(session.storage, meta(30, 3), newer);
        expect(await session.storage.readSnapshot(10, 0, 100)).toBeNull();
        expect(Buffer.compare((await readWhole(session.storage, 30, 512))!, newer)).toBe(0);
        const stale = await session.storage.createSnapshot(meta(30, 3));
        await stale.write(pattern(10, 6));
        await expectInvariant(stale.publish(0));
        await stale.abort();
        await session.reopen();
        expect((await session.storage.latestSnapshot())?.meta.index).toBe(30);
      }));

    it('discards an aborted snapshot', () =>
      withBootstrapped(async (session) => {
        const writer = await session.storage.createSnapshot(meta(5));
        await writer.write(pattern(100, 7));
        await writer.abort();
        expect(await session.storage.latestSnapshot()).toBeNull();
        await session.reopen();
        expect(await session.storage.latestSnapshot()).toBeNull();
      }));

    it('takes a second open of an open storage as a no-op: a snapshot being written survives', () =>
      withBootstrapped(async (session) => {
        const before = await session.storage.open();
        const writer = await session.storage.createSnapshot(meta(6));
        const data = pattern(9000, 12);
        await writer.write(data.subarray(0, 4000));
        expect(await session.storage.open()).toEqual(before);
        await writer.write(data.subarray(4000));
        await writer.publish(crc32c(data));
        expect(Buffer.compare((await readWhole(session.storage, 6, 4096))!, data)).toBe(0);
      }));

    it('takes snapshot writes while the log is saved and compacted', () =>
      withBootstrapped(async (session) => {
        const data = pattern(50_000, 8);
        const writer = await session.storage.createSnapshot(meta(4));
        const entry = (index: number) => ({
          kind: 'command' as const,
          index,
          term: 1,
          data: new Uint8Array([index]),
        });
        for (let index = 1; index <= 8; index++) {
          await Promise.all([
            writer.write(data.subarray((index - 1) * 6250, index * 6250)),
            session.storage.save({ entries: [entry(index)] }),
          ]);
        }
        await writer.publish(crc32c(data));
        await session.storage.compact(meta(4));
        const state = await session.reopen();
        expect(state).toMatchObject({ lastIndex: 8, snapshot: meta(4) });
        expect(Buffer.compare((await readWhole(session.storage, 4, 8192))!, data)).toBe(0);
      }));

    it('rejects reads with a negative offset or an empty window, and a bad checksum', () =>
      withBootstrapped(async (session) => {
        await expectInvariant(session.storage.readSnapshot(1, -1, 10));
        await expectInvariant(session.storage.readSnapshot(1, 0, 0));
        const writer = await session.storage.createSnapshot(meta(2));
        await expectInvariant(writer.publish(-5));
      }));

    if (crashes) {
      it('keeps a published snapshot through a crash and loses a half-written one', () =>
        withBootstrapped(async (session) => {
          const data = pattern(20_000, 9);
          await writeSnapshot(session.storage, meta(7, 2), data);
          const writer = await session.storage.createSnapshot(meta(9, 2));
          await writer.write(pattern(9000, 10));
          await session.crash();
          expect(await session.storage.latestSnapshot()).toMatchObject({ meta: meta(7, 2) });
          expect(Buffer.compare((await readWhole(session.storage, 7, 3000))!, data)).toBe(0);
          const next = pattern(100, 11);
          await writeSnapshot(session.storage, meta(9, 2), next);
          await session.reopen();
          expect(Buffer.compare((await readWhole(session.storage, 9, 3000))!, next)).toBe(0);
        }));
    }
  });
}
