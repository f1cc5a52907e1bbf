import { describe, expect, it } from 'vitest';
import type { RaftNodeEvents } from './node-events.js';
import { SnapshottingCounter } from './snapshot-machines.test-helpers.js';
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
    const { cluster, events } = snapshotCluster({ entriesMax: 10, trailingEntries: 3 });
    await startAll(cluster, events);
    const leader = await cluster.waitForLeader();
    for (let round = 0; round < 30; round++) await cluster.settle(cluster.propose(leader, 'add:3'));
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.runUntil(() => cluster.node(follower).status().snapshotIndex > 0);
    await cluster.node(follower).stop();
    const machine = new SnapshottingCounter();
    const node = await cluster.startNode(follower, machine);
    expect(machine.restoredFrom).not.toBeNull();
    // Only the tail after the snapshot is applied again.
    expect(machine.applied.length).toBeLessThan(30);
    await cluster.runUntil(() => machine.total === 90);
    expect(node.status().snapshotIndex).toBeGreaterThan(0);
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
