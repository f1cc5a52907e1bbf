// A leader whose own stored snapshot was damaged at rest must not keep streaming it. It checks the
// bytes it reads to send against the CRC-32C they were published with and, on a mismatch, stops
// with CORRUPT_STORAGE before the last chunk goes out: the lagging follower never completes (let
// alone installs) the damaged copy, and a server whose log is intact leads and catches it up.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftError, type NodeId } from '../core/index.js';
import { FileStorage } from '../storage/file/index.js';
import type { StoredSnapshot } from '../storage/log-storage.js';
import { realClock } from '../platform/clock.js';
import type { RaftNodeEvents } from './node-events.js';
import { FilteringTransport, PayloadCounter } from './snapshot-machines.test-helpers.js';
import { TestCluster } from './test-cluster.test-helpers.js';

const payloadBytes = 4_000;
/** Generous bounds for a cluster that may run on a busy machine; no assertion is on timing. */
const waitMsMax = 30_000;
/** Each test waits several times, each bounded by `waitMsMax`. */
const testTimeoutMs = 120_000;

interface Scenario {
  readonly cluster: TestCluster;
  /** What the lagging node received: every chunk, and how many of them claimed to be the last. */
  readonly arrived: { chunks: number; lastChunks: number };
  readonly snapshotEvents: RaftNodeEvents['snapshot'][];
}

/** A three-node cluster whose lagging node's arrivals are counted; `storage` picks each store. */
function scenario(storage?: (id: NodeId) => FileStorage): Scenario {
  const arrived = { chunks: 0, lastChunks: 0 };
  const cluster: TestCluster = new TestCluster({
    size: 3,
    ...(storage === undefined ? {} : { clock: realClock }),
    extra: (id) => ({
      // Small chunks, so the damaged byte travels long before the last chunk would.
      snapshots: { entriesMax: 1_000_000, trailingEntries: 0, chunkBytes: 512 },
      transport: new FilteringTransport(cluster.network.transport(), (message, deliver) => {
        if (message.type === 'install-snapshot' && message.to === id) {
          arrived.chunks++;
          if (message.done) arrived.lastChunks++;
        }
        deliver(message);
      }),
      // On real time a busy machine must not move leadership: the damage is on one server's disk.
      ...(storage === undefined ? {} : { storage: storage(id), core: { electionTicks: 50 } }),
    }),
  });
  return { cluster, arrived, snapshotEvents: [] };
}

/**
 * Runs the cluster until the leader has a snapshot the stopped `lagging` node needs (its log is
 * compacted past everything that node holds), lets `damage` change the leader's stored copy, then
 * restarts the lagging node and waits for the leader to fail.
 */
async function sendDamagedSnapshot(
  setup: Scenario,
  damage: (leader: NodeId, stored: StoredSnapshot) => Promise<void>,
) {
  const { cluster } = setup;
  for (const id of cluster.ids) {
    const node = await cluster.startNode(id, new PayloadCounter(payloadBytes));
    node.on('snapshot', (event) => setup.snapshotEvents.push(event));
  }
  const leader = await cluster.waitForLeader(waitMsMax);
  const lagging = cluster.ids.find((id) => id !== leader.id)!;
  await cluster.node(lagging).stop();
  for (let round = 0; round < 20; round++) {
    await cluster.settle(cluster.propose(leader, 'add:1'), waitMsMax);
  }
  const stored = await cluster.settle(leader.snapshot(), waitMsMax);
  await cluster.runUntil(() => leader.status().snapshotIndex === stored.meta.index, waitMsMax);
  await damage(leader.id, stored);
  const errors: RaftNodeEvents['error'][] = [];
  leader.on('error', (event) => errors.push(event));
  const machine = new PayloadCounter(payloadBytes);
  const restarted = await cluster.startNode(lagging, machine);
  restarted.on('snapshot', (event) => setup.snapshotEvents.push(event));
  await cluster.runUntil(() => errors.length > 0 && !leader.running, waitMsMax);
  return { leader, lagging, machine, errors, stored };
}

type Outcome = Awaited<ReturnType<typeof sendDamagedSnapshot>>;

async function expectRefusedAndRecovered(setup: Scenario, outcome: Outcome): Promise<void> {
  const { cluster, arrived } = setup;
  const { leader, lagging, machine, errors, stored } = outcome;
  expect(errors).toHaveLength(1);
  const [reported] = errors;
  expect(reported!.fatal).toBe(true);
  expect(reported!.error).toBeInstanceOf(RaftError);
  expect(reported!.error).toMatchObject({
    code: 'CORRUPT_STORAGE',
    details: { snapshotIndex: stored.meta.index, checksum: stored.checksum },
  });
  // The follower received some of the data, never its end: nothing damaged was completed.
  expect(arrived.chunks).toBeGreaterThan(0);
  expect(arrived.lastChunks).toBe(0);
  expect(machine.restoredFrom).toBeNull();
  expect(setup.snapshotEvents.filter((event) => event.kind === 'installed')).toEqual([]);
  // The other server's log is intact: it leads, and catches the lagging node up from it.
  const next = await cluster.waitForLeader(waitMsMax);
  expect(next.id).not.toBe(leader.id);
  await cluster.runUntil(() => machine.total === 20, waitMsMax);
  expect(machine.restoredFrom).toBeNull();
  expect(cluster.node(lagging).running).toBe(true);
  await cluster.stopAll();
}

describe('a leader whose stored snapshot is damaged', () => {
  it(
    'stops with CORRUPT_STORAGE instead of sending it (MemoryStorage, a bit flipped at rest)',
    async () => {
      const setup = scenario();
      const outcome = await sendDamagedSnapshot(setup, (leader, stored) => {
        const storage = setup.cluster.storages.get(leader)!;
        const damagedAt = Math.floor(stored.bytes / 2);
        const read = storage.readSnapshot.bind(storage);
        // Every read of the damaged byte sees it flipped, as it would on a damaged medium.
        storage.readSnapshot = async (index, offset, bytesMax) => {
          const chunk = await read(index, offset, bytesMax);
          if (chunk !== null && offset <= damagedAt && damagedAt < offset + chunk.byteLength) {
            chunk[damagedAt - offset]! ^= 0x10;
          }
          return chunk;
        };
        return Promise.resolve();
      });
      await expectRefusedAndRecovered(setup, outcome);
    },
    testTimeoutMs,
  );

  describe('on FileStorage', () => {
    let root: string | null = null;
    afterEach(async () => {
      if (root !== null) await rm(root, { recursive: true, force: true });
      root = null;
    });

    it(
      'stops with CORRUPT_STORAGE when one byte of the snapshot file changed on disk',
      async () => {
        root = await mkdtemp(join(tmpdir(), 'raftkit-damaged-send-'));
        const directory = (id: NodeId) => join(root!, id);
        const setup = scenario((id) => new FileStorage({ directory: directory(id) }));
        const outcome = await sendDamagedSnapshot(setup, async (leader, stored) => {
          const names = await readdir(directory(leader));
          const name = names.find((file) => file.endsWith('.snap'));
          if (name === undefined) throw new Error(`no snapshot file in ${names.join(', ')}`);
          const path = join(directory(leader), name);
          const file = await readFile(path);
          // Inside the data, before the footer that describes it.
          file[Math.floor(stored.bytes / 2)]! ^= 0x10;
          await writeFile(path, file);
        });
        await expectRefusedAndRecovered(setup, outcome);
      },
      testTimeoutMs,
    );
  });
});
