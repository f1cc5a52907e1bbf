// The leader's side of InstallSnapshot against a scripted node: the corners of checking its own
// copy that a cluster reaches only by chance (a transfer resumed from a follower's partial copy, a
// follower refusing a whole snapshot, storage returning less than it stored).
import { describe, expect, it } from 'vitest';
import { crc32c } from '../codec/crc32c.js';
import { bootstrapSnapshot, configurationOf } from '../core/index.js';
import type { StoredSnapshot } from '../storage/log-storage.js';
import { snapshotDefaults } from './node-options.js';
import { SnapshotSender } from './snapshot-sender.js';
import { rejection } from './test-cluster.test-helpers.js';

const chunkBytes = 100;
const snapshotBytes = 1_000;
/** Far more reads than any test here needs. */
const readsMax = 1_000;

interface SentChunk {
  readonly offset: number;
  readonly bytes: number;
  readonly last: boolean;
}

/**
 * A leader holding one stored snapshot whose bytes a test may change after it was published;
 * `chunksInflightMax` chunks go out before the follower answers.
 */
function leaderWithSnapshot(chunksInflightMax = 20) {
  const data = Uint8Array.from({ length: snapshotBytes }, (_, position) => position % 251);
  const stored: StoredSnapshot = {
    meta: { ...bootstrapSnapshot(configurationOf(['l', 'f'])), index: 10, term: 2 },
    bytes: snapshotBytes,
    checksum: crc32c(data),
  };
  const sent: SentChunk[] = [];
  const reads: number[] = [];
  const failed: number[] = [];
  /** What storage holds now: `bytes` of `data`, and none of it once `reads` reaches `replacedAfter`. */
  const storage = { data, bytes: snapshotBytes, replacedAfter: Infinity };
  const sender = new SnapshotSender({
    id: 'l',
    options: { ...snapshotDefaults, chunkBytes, chunksInflightMax },
    now: () => 0,
    leaderTerm: () => 2,
    wanted: () => true,
    holds: () => false,
    failed: (_to, index) => failed.push(index),
    available: () => undefined,
    latest: () => Promise.resolve(stored),
    read: (_index, offset, bytesMax) => {
      if (reads.length >= storage.replacedAfter) return Promise.resolve(null);
      // A sender that reads the same bytes over and over must fail the test, not hang it.
      if (reads.length >= readsMax) return Promise.reject(new Error('read without end'));
      reads.push(offset);
      const end = Math.min(offset + bytesMax, storage.bytes);
      return Promise.resolve(storage.data.slice(Math.min(offset, end), end));
    },
    send: (chunk) =>
      sent.push({
        offset: chunk.offset,
        bytes: chunk.data.byteLength,
        last: chunk.offset + chunk.data.byteLength === chunk.totalBytes,
      }),
    sent: () => undefined,
  });
  /** The follower's answer: it holds `bytesReceived` bytes, or refused the whole. */
  const answer = (bytesReceived: number, success = true): Promise<void> =>
    sender.onResponse({
      type: 'install-snapshot-response',
      term: 2,
      from: 'f',
      to: 'l',
      snapshotIndex: stored.meta.index,
      bytesReceived,
      success,
    });
  const start = () => sender.start({ to: 'f', snapshot: stored.meta });
  const lastChunks = () => sent.filter((chunk) => chunk.last);
  return { sender, stored, storage, sent, reads, failed, answer, start, lastChunks };
}

describe('SnapshotSender checks the stored snapshot it sends', () => {
  it('sends an intact snapshot whole, the last chunk included', async () => {
    const leader = leaderWithSnapshot();
    await leader.start();
    expect(leader.sent.map((chunk) => chunk.offset)).toEqual(
      Array.from({ length: 10 }, (_, chunk) => chunk * chunkBytes),
    );
    expect(leader.lastChunks()).toHaveLength(1);
  });

  it('refuses with CORRUPT_STORAGE before the last chunk when a byte changed at rest', async () => {
    const leader = leaderWithSnapshot();
    leader.storage.data[456]! ^= 0x01;
    const error = await rejection(leader.start());
    expect(error).toMatchObject({
      code: 'CORRUPT_STORAGE',
      details: { snapshotIndex: 10, checksum: leader.stored.checksum },
    });
    expect(leader.sent).toHaveLength(9);
    expect(leader.lastChunks()).toEqual([]);
    expect(leader.sender.activeCount).toBe(0);
  });

  it('reads the bytes a resumed transfer skipped, and refuses when they were damaged', async () => {
    const leader = leaderWithSnapshot(3);
    // Damaged where the follower already holds a copy (another leader began the transfer).
    leader.storage.data[456]! ^= 0x01;
    await leader.start();
    expect(leader.sent.map((chunk) => chunk.offset)).toEqual([0, 100, 200]);
    const error = await rejection(leader.answer(700));
    expect(error.code).toBe('CORRUPT_STORAGE');
    expect(leader.lastChunks()).toEqual([]);
    // The check reads in order: bytes 300 to 700 (never sent), then 700 to 900 again (they were
    // sent before the bytes in front of them were checked; holding them would cost memory).
    expect(leader.reads).toEqual([0, 100, 200, 700, 800, 900, 300, 400, 500, 600, 700, 800]);
    expect(leader.sent.map((chunk) => chunk.offset)).toEqual([0, 100, 200, 700, 800]);
  });

  it('completes a resumed transfer of an intact snapshot', async () => {
    const leader = leaderWithSnapshot(3);
    await leader.start();
    await leader.answer(700);
    expect(leader.sent.map((chunk) => chunk.offset)).toEqual([0, 100, 200, 700, 800, 900]);
    expect(leader.lastChunks()).toEqual([{ offset: 900, bytes: 100, last: true }]);
  });

  it('checks again after a follower refused the whole, and stops once storage differs', async () => {
    const leader = leaderWithSnapshot();
    await leader.start();
    expect(leader.lastChunks()).toHaveLength(1);
    leader.storage.data[5]! ^= 0x01;
    const error = await rejection(leader.answer(0, false));
    expect(error.code).toBe('CORRUPT_STORAGE');
    expect(leader.lastChunks()).toHaveLength(1);
  });

  it('refuses a snapshot that reads back shorter than it was stored, instead of asking forever', async () => {
    const leader = leaderWithSnapshot();
    leader.storage.bytes = 450;
    const error = await rejection(leader.start());
    expect(error).toMatchObject({ code: 'CORRUPT_STORAGE', details: { offset: 450 } });
    expect(leader.reads.filter((offset) => offset === 450)).toHaveLength(1);
    expect(leader.lastChunks()).toEqual([]);
  });

  it('gives the transfer up, with no error, when the snapshot is replaced while it checks', async () => {
    const leader = leaderWithSnapshot(3);
    await leader.start();
    // Chunks 700 to 900 are read, then a newer snapshot replaces this one before the check.
    leader.storage.replacedAfter = leader.reads.length + 3;
    await leader.answer(700);
    expect(leader.failed).toEqual([10]);
    expect(leader.lastChunks()).toEqual([]);
    expect(leader.sender.activeCount).toBe(0);
  });
});
