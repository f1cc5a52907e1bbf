import { describe, expect, it } from 'vitest';
import type { Entry, RaftCore } from '../core/index.js';
import type { RaftNodeEvents } from './node-events.js';
import { SnapshottingCounter } from './snapshot-machines.test-helpers.js';
import { trailingWindowStart } from './snapshots.js';
import { RaftNode } from './raft-node.js';
import { MemoryStorage } from '../storage/memory/index.js';
import { InProcessNetwork } from '../transport/in-process/index.js';
import { CounterMachine, TestCluster, encode } from './test-cluster.test-helpers.js';

/** A counter whose snapshots wait for {@link GatedCounter.open} before their data flows. */
class GatedCounter extends CounterMachine {
  #open: () => void = () => undefined;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));
  snapshotsStarted = 0;

  open(): void {
    this.#open();
  }

  async *snapshot(): AsyncIterable<Uint8Array> {
    const bytes = encode(JSON.stringify({ total: this.total }));
    this.snapshotsStarted++;
    await this.#gate;
    yield bytes;
  }

  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    this.total = (
      JSON.parse(new TextDecoder().decode(Buffer.concat(parts))) as { total: number }
    ).total;
  }
}

function snapshotCluster(options: {
  entriesMax: number;
  trailingEntries: number;
  stopEntriesMin?: number;
}) {
  const events: RaftNodeEvents['snapshot'][] = [];
  const cluster = new TestCluster({
    size: 3,
    extra: () => ({ snapshots: { ...options, chunkBytes: 4, chunksInflightMax: 2 } }),
  });
  return { cluster, events };
}

async function startAll(cluster: TestCluster, events: RaftNodeEvents['snapshot'][]) {
  for (const id of cluster.ids) {
    const node = await cluster.startNode(id, new SnapshottingCounter());
    node.on('snapshot', (event) => events.push(event));
  }
}

/**
 * A running cluster after `rounds` proposals of `command`, with one follower that holds a snapshot
 * stopped: the restart tests start it again.
 */
async function stoppedFollowerWithSnapshot(
  options: Parameters<typeof snapshotCluster>[0],
  rounds: number,
  command: string,
) {
  const { cluster, events } = snapshotCluster(options);
  await startAll(cluster, events);
  const leader = await cluster.waitForLeader();
  for (let round = 0; round < rounds; round++) {
    await cluster.settle(cluster.propose(leader, command));
  }
  const follower = cluster.ids.find((id) => id !== leader.id)!;
  await cluster.runUntil(() => cluster.node(follower).status().snapshotIndex > 0);
  await cluster.node(follower).stop();
  return { cluster, leader, follower };
}

describe('snapshots on a running cluster', () => {
  it('takes snapshots by policy while proposals flow, and compacts behind a trailing window', async () => {
    const { cluster, events } = snapshotCluster({ entriesMax: 20, trailingEntries: 5 });
    await startAll(cluster, events);
    const leader = await cluster.waitForLeader();
    for (let round = 0; round < 60; round++) await cluster.settle(cluster.propose(leader, 'add:1'));
    await cluster.runUntil(() =>
      cluster.ids.every((id) => cluster.node(id).status().snapshotIndex > 0),
    );
    for (const id of cluster.ids) {
      const status = cluster.node(id).status();
      expect(status.lastIndex - status.snapshotIndex).toBeLessThan(20 + 5 + 2);
      expect(status.counters.snapshotsTaken).toBeGreaterThan(0);
    }
    expect(events.some((event) => event.kind === 'taken' && event.bytes > 0)).toBe(true);
    expect(cluster.leader()).toBe(leader);
    await cluster.stopAll();
  });

  it('takes a snapshot on demand on the leader, which keeps leading', async () => {
    const { cluster, events } = snapshotCluster({ entriesMax: 1_000_000, trailingEntries: 0 });
    await startAll(cluster, events);
    const leader = await cluster.waitForLeader();
    for (let round = 0; round < 10; round++) await cluster.settle(cluster.propose(leader, 'add:2'));
    const stored = await cluster.settle(leader.snapshot());
    expect(stored.meta.index).toBe(leader.status().appliedIndex);
    await cluster.runUntil(() => leader.status().snapshotIndex === stored.meta.index);
    expect(leader.role).toBe('leader');
    expect(await cluster.settle(cluster.propose(leader, 'add:1'))).toBe(21);
    await cluster.stopAll();
  });

  it('catches up a follower that missed compacted entries by InstallSnapshot, then by log', async () => {
    const { cluster, events } = snapshotCluster({ entriesMax: 15, trailingEntries: 2 });
    await startAll(cluster, events);
    const leader = await cluster.waitForLeader();
    const lagging = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.node(lagging).stop();
    for (let round = 0; round < 40; round++) await cluster.settle(cluster.propose(leader, 'add:1'));
    await cluster.runUntil(() => leader.status().snapshotIndex > 10);
    const restarted = new SnapshottingCounter();
    const node = await cluster.startNode(lagging, restarted);
    node.on('snapshot', (event) => events.push(event));
    await cluster.runUntil(() => node.status().appliedIndex === leader.status().commitIndex);
    expect(restarted.restoredFrom).not.toBeNull();
    expect(restarted.total).toBe(40);
    expect(events.some((event) => event.kind === 'sent' && event.peer === lagging)).toBe(true);
    expect(events.some((event) => event.kind === 'installed' && event.nodeId === lagging)).toBe(
      true,
    );
    await cluster.settle(cluster.propose(leader, 'add:5'));
    await cluster.runUntil(() => restarted.total === 45);
    await cluster.stopAll();
  });

  it('restarts from the snapshot plus the tail, not the whole history', async () => {
    const { cluster, follower } = await stoppedFollowerWithSnapshot(
      { entriesMax: 10, trailingEntries: 3 },
      30,
      'add:3',
    );
    const machine = new SnapshottingCounter();
    const node = await cluster.startNode(follower, machine);
    expect(machine.restoredFrom).not.toBeNull();
    // Only the tail after the snapshot is applied again.
    expect(machine.applied.length).toBeLessThan(30);
    await cluster.runUntil(() => machine.total === 90);
    expect(node.status().snapshotIndex).toBeGreaterThan(0);
    await cluster.stopAll();
  });

  it('restarts the core from the newest snapshot, leaving the trailing window on disk unread', async () => {
    const { cluster, leader, follower } = await stoppedFollowerWithSnapshot(
      { entriesMax: 10, trailingEntries: 6 },
      25,
      'add:1',
    );
    const storage = cluster.storages.get(follower)!;
    const stored = (await storage.open())!;
    const latest = (await storage.latestSnapshot())!.meta.index;
    await storage.close();
    // The log on disk starts behind the snapshot, for followers that lag.
    expect(stored.snapshot.index).toBeLessThan(latest);
    const reads: number[] = [];
    const entries = storage.entries.bind(storage);
    storage.entries = (from, to) => {
      reads.push(from);
      return entries(from, to);
    };
    const machine = new SnapshottingCounter();
    const node = await cluster.startNode(follower, machine);
    expect(node.status().snapshotIndex).toBe(latest);
    // Only the snapshot's own entry (to check its term) and what follows it are read.
    expect(Math.min(...reads)).toBe(latest);
    await cluster.settle(cluster.propose(leader, 'add:1'));
    await cluster.runUntil(() => machine.total === 26);
    await cluster.stopAll();
  });

  it('refuses to restart from a snapshot whose data no longer matches its checksum', async () => {
    const { cluster, follower } = await stoppedFollowerWithSnapshot(
      { entriesMax: 10, trailingEntries: 2 },
      15,
      'add:1',
    );
    // One bit of the stored data flips at rest, where nothing else checks it.
    const storage = cluster.storages.get(follower)!;
    const read = storage.readSnapshot.bind(storage);
    storage.readSnapshot = async (index, offset, bytesMax) => {
      const chunk = await read(index, offset, bytesMax);
      if (chunk !== null && offset === 0) chunk[chunk.byteLength - 1]! ^= 0x01;
      return chunk;
    };
    const machine = new SnapshottingCounter();
    await expect(cluster.startNode(follower, machine)).rejects.toMatchObject({
      code: 'CORRUPT_STORAGE',
    });
    expect(machine.restoredFrom).toBeNull();
    await cluster.stopAll();
  });

  it('compacts behind a snapshot still being written when a stop begins', async () => {
    const { cluster } = snapshotCluster({
      entriesMax: 10,
      trailingEntries: 2,
      stopEntriesMin: 1_000,
    });
    const machines = new Map(cluster.ids.map((id) => [id, new GatedCounter()]));
    for (const id of cluster.ids) await cluster.startNode(id, machines.get(id));
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    const machine = machines.get(follower)!;
    for (let round = 0; round < 12; round++) await cluster.settle(cluster.propose(leader, 'add:1'));
    await cluster.runUntil(() => machine.snapshotsStarted > 0);
    const stopping = cluster.node(follower).stop();
    machine.open();
    await cluster.settle(stopping);
    const storage = cluster.storages.get(follower)!;
    const stored = await storage.open();
    const snapshot = await storage.latestSnapshot();
    expect(snapshot).not.toBeNull();
    // The log starts at the trailing window behind that snapshot, not at the beginning.
    expect(stored?.snapshot.index).toBe(snapshot!.meta.index - 2);
    await storage.close();
    for (const id of cluster.ids) machines.get(id)!.open();
    await cluster.stopAll();
  });

  it('takes a snapshot on a graceful stop, so the next start restores it and replays nothing', async () => {
    const { cluster, events } = snapshotCluster({
      entriesMax: 1_000_000,
      trailingEntries: 2,
      stopEntriesMin: 10,
    });
    await startAll(cluster, events);
    const leader = await cluster.waitForLeader();
    for (let round = 0; round < 12; round++) await cluster.settle(cluster.propose(leader, 'add:2'));
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.runUntil(() => cluster.node(follower).status().appliedIndex >= 13);
    const applied = cluster.node(follower).status().appliedIndex;
    await cluster.node(follower).stop();
    const machine = new SnapshottingCounter();
    await cluster.startNode(follower, machine);
    expect(machine.restoredFrom?.index).toBe(applied);
    expect(machine.total).toBe(24);
    expect(machine.applied).toEqual([]);
    // Below the threshold a stop leaves the snapshot as it is.
    await cluster.settle(cluster.propose(leader, 'add:1'));
    await cluster.runUntil(() => machine.total === 25);
    await cluster.node(follower).stop();
    const again = new SnapshottingCounter();
    await cluster.startNode(follower, again);
    expect(again.restoredFrom?.index).toBe(applied);
    await cluster.runUntil(() => again.total === 25);
    expect(again.applied.map((entry) => entry.command)).toEqual(['add:1']);
    await cluster.stopAll();
  });
});

describe('trailingWindowStart', () => {
  /** A core holding `sizes[i]` command bytes at index `first + i`, compacted up to `first - 1`. */
  function coreWith(first: number, sizes: number[]): RaftCore {
    const entry = (index: number): Entry | undefined => {
      const size = sizes[index - first];
      if (size === undefined) return undefined;
      return size < 0
        ? { kind: 'noop', index, term: 1 }
        : { kind: 'command', index, term: 1, data: new Uint8Array(size) };
    };
    return { snapshotIndex: first - 1, entry } as unknown as RaftCore;
  }

  it('keeps trailingEntries entries while they hold few bytes', () => {
    const core = coreWith(1, Array<number>(100).fill(10));
    expect(trailingWindowStart(core, 100, { trailingEntries: 20, trailingBytes: 1_000 })).toBe(80);
  });

  it('keeps fewer when they would hold more than trailingBytes of commands', () => {
    // Entries of 300 bytes: three fit in 1,000 bytes, the fourth back is compacted.
    const core = coreWith(1, Array<number>(100).fill(300));
    expect(trailingWindowStart(core, 100, { trailingEntries: 20, trailingBytes: 1_000 })).toBe(97);
    // Entries without commands cost nothing.
    const mixed = coreWith(1, [...Array<number>(97).fill(300), -1, -1, 300]);
    expect(trailingWindowStart(mixed, 100, { trailingEntries: 20, trailingBytes: 1_000 })).toBe(95);
    expect(trailingWindowStart(core, 100, { trailingEntries: 20, trailingBytes: 0 })).toBe(100);
  });

  it('looks no further back than what the core still holds', () => {
    const core = coreWith(91, Array<number>(10).fill(10));
    expect(trailingWindowStart(core, 100, { trailingEntries: 20, trailingBytes: 1_000 })).toBe(80);
    expect(trailingWindowStart(null, 100, { trailingEntries: 20, trailingBytes: 0 })).toBe(80);
  });
});

describe('snapshot options', () => {
  const nodeWith = (snapshots: Record<string, number>) =>
    new RaftNode({
      id: 'n1',
      storage: new MemoryStorage(),
      transport: new InProcessNetwork().transport(),
      stateMachine: new CounterMachine(),
      initialConfiguration: ['n1'],
      snapshots,
    });

  it('takes 0 for the trailing window as "none", and refuses a negative or fractional bound', () => {
    expect(() => nodeWith({ trailingEntries: 0, trailingBytes: 0 })).not.toThrow();
    for (const value of [-1, 1.5]) {
      expect(() => nodeWith({ trailingBytes: value })).toThrow(
        expect.objectContaining({
          code: 'INVALID_CONFIG',
          details: { option: 'snapshots.trailingBytes', value },
        }),
      );
    }
  });
});
