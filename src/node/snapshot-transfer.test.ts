// InstallSnapshot between real nodes on the in-process network. A test decides the fate of every
// message the lagging node receives (lost, duplicated, held back, cut off), and the lagging node's
// state machine checks every byte it restores, so a transfer that skips, repeats or shifts data
// fails loudly instead of restoring a wrong state.
import { describe, expect, it } from 'vitest';
import type { InstallSnapshot, InstallSnapshotResponse, NodeId } from '../core/index.js';
import type { SnapshotWriter } from '../storage/log-storage.js';
import type { Message, MessageHandler } from '../transport/transport.js';
import type { RaftNodeEvents } from './node-events.js';
import type { SnapshotOptions } from './node-options.js';
import {
  FilteringTransport,
  PayloadCounter,
  type ArrivalFilter,
} from './snapshot-machines.test-helpers.js';
import { TestCluster } from './test-cluster.test-helpers.js';

const isChunk = (message: Message): message is InstallSnapshot =>
  message.type === 'install-snapshot';

interface TransferSetup {
  readonly cluster: TestCluster;
  readonly leader: NodeId;
  readonly lagging: NodeId;
  readonly events: RaftNodeEvents['snapshot'][];
  /** Bytes the lagging node's storage accepted into snapshot writers, and how many it opened. */
  readonly written: { bytes: number; writers: number };
}

/**
 * Three nodes with payload snapshots; the leader has compacted past everything the stopped
 * `lagging` node holds, so restarting it (see {@link restartLagging}) needs a snapshot.
 */
async function laggingFollower(options: {
  payloadBytes: number;
  snapshots: Partial<SnapshotOptions>;
  /** Decides what the lagging node receives. */
  filter?: ArrivalFilter;
  /** Decides what the leader receives (the lagging node's acknowledgements, among others). */
  leaderFilter?: ArrivalFilter;
}): Promise<TransferSetup> {
  const events: RaftNodeEvents['snapshot'][] = [];
  // Roles are known only once a leader is elected; the filters look them up as messages arrive.
  const roles = { leader: '', lagging: '' };
  const dispatch: ArrivalFilter = (message, deliver) => {
    if (message.to === roles.lagging && options.filter !== undefined) {
      options.filter(message, deliver);
    } else if (message.to === roles.leader && options.leaderFilter !== undefined) {
      options.leaderFilter(message, deliver);
    } else deliver(message);
  };
  const cluster: TestCluster = new TestCluster({
    size: 3,
    extra: () => ({
      snapshots: { entriesMax: 1_000_000, trailingEntries: 0, ...options.snapshots },
      transport: new FilteringTransport(cluster.network.transport(), dispatch),
    }),
  });
  for (const id of cluster.ids) {
    const node = await cluster.startNode(id, new PayloadCounter(options.payloadBytes));
    node.on('snapshot', (event) => events.push(event));
  }
  const leader = await cluster.waitForLeader();
  roles.leader = leader.id;
  roles.lagging = cluster.ids.find((id) => id !== leader.id)!;
  const written = countSnapshotWrites(cluster, roles.lagging);
  await cluster.node(roles.lagging).stop();
  for (let round = 0; round < 20; round++) await cluster.settle(cluster.propose(leader, 'add:1'));
  await cluster.runUntil(() =>
    cluster.ids.every(
      (id) =>
        id === roles.lagging ||
        cluster.node(id).status().appliedIndex === leader.status().commitIndex,
    ),
  );
  await cluster.settle(leader.snapshot());
  await cluster.runUntil(() => leader.status().snapshotIndex > 20);
  return { cluster, leader: leader.id, lagging: roles.lagging, events, written };
}

/**
 * The size of the snapshot the leader took: the state machine's bytes and the runtime's own
 * sections (the session table), which every byte-exact check compares against.
 */
function snapshotBytes(setup: TransferSetup): number {
  const taken = setup.events.filter(
    (event) => event.kind === 'taken' && event.nodeId === setup.leader,
  );
  if (taken.length === 0) throw new Error('the leader took no snapshot');
  return taken.at(-1)!.bytes;
}

/** Counts what the node's storage is asked to write into snapshot writers. */
function countSnapshotWrites(cluster: TestCluster, id: NodeId): { bytes: number; writers: number } {
  const storage = cluster.storages.get(id)!;
  const counts = { bytes: 0, writers: 0 };
  const create = storage.createSnapshot.bind(storage);
  storage.createSnapshot = async (meta) => {
    const writer: SnapshotWriter = await create(meta);
    counts.writers++;
    return {
      write: (chunk) => {
        counts.bytes += chunk.byteLength;
        return writer.write(chunk);
      },
      publish: (checksum) => writer.publish(checksum),
      abort: () => writer.abort(),
    };
  };
  return counts;
}

async function restartLagging(setup: TransferSetup, payloadBytes: number): Promise<PayloadCounter> {
  const machine = new PayloadCounter(payloadBytes);
  const node = await setup.cluster.startNode(setup.lagging, machine);
  node.on('snapshot', (event) => setup.events.push(event));
  return machine;
}

async function expectCaughtUp(setup: TransferSetup, machine: PayloadCounter): Promise<void> {
  const { cluster } = setup;
  const leader = cluster.leader()!;
  await cluster.runUntil(() => machine.restoredFrom !== null, 30_000);
  await cluster.settle(cluster.propose(leader, 'add:100'));
  await cluster.runUntil(() => machine.total === 120, 30_000);
  await cluster.stopAll();
}

describe('InstallSnapshot over an unreliable network', () => {
  it('loses a chunk in three and still installs every byte, resending from the acknowledged offset', async () => {
    let chunks = 0;
    let lost = 0;
    const setup = await laggingFollower({
      payloadBytes: 20_000,
      snapshots: { chunkBytes: 1024, chunksInflightMax: 4, chunkTimeoutMs: 50 },
      filter: (message, deliver) => {
        if (isChunk(message) && ++chunks % 3 === 0) lost++;
        else deliver(message);
      },
    });
    const machine = await restartLagging(setup, 20_000);
    await expectCaughtUp(setup, machine);
    expect(lost).toBeGreaterThan(5);
    expect(machine.restoredFrom!.index).toBeGreaterThan(20);
    // Every byte written once: lost chunks were resent, never the ones already acknowledged.
    expect(setup.written).toEqual({ bytes: snapshotBytes(setup), writers: 1 });
  });

  it('ignores duplicated chunks: each is written once', async () => {
    let duplicated = 0;
    const setup = await laggingFollower({
      payloadBytes: 20_000,
      snapshots: { chunkBytes: 1024, chunksInflightMax: 4 },
      filter: (message, deliver) => {
        deliver(message);
        if (isChunk(message)) {
          duplicated++;
          deliver(message);
        }
      },
    });
    const machine = await restartLagging(setup, 20_000);
    await expectCaughtUp(setup, machine);
    expect(duplicated).toBeGreaterThan(15);
    expect(setup.written).toEqual({ bytes: snapshotBytes(setup), writers: 1 });
  });

  it('puts reordered chunks back in order: a chunk that overtakes another is resent, not stored early', async () => {
    let held: { message: Message; deliver: MessageHandler } | null = null;
    let swapped = 0;
    const setup = await laggingFollower({
      payloadBytes: 20_000,
      snapshots: { chunkBytes: 1024, chunksInflightMax: 4, chunkTimeoutMs: 50 },
      filter: (message, deliver) => {
        if (!isChunk(message)) return deliver(message);
        // Every other chunk waits for the next one and arrives after it.
        if (held === null && message.offset % 2048 === 0 && !message.done) {
          held = { message, deliver };
          return;
        }
        deliver(message);
        if (held !== null) {
          swapped++;
          held.deliver(held.message);
          held = null;
        }
      },
    });
    const machine = await restartLagging(setup, 20_000);
    await expectCaughtUp(setup, machine);
    expect(swapped).toBeGreaterThan(5);
    expect(setup.written).toEqual({ bytes: snapshotBytes(setup), writers: 1 });
  });

  it('resumes from the last acknowledged offset after the connection breaks for longer than the transfer may stall', async () => {
    const chunkBytes = 1024;
    const broken = { now: false, healed: false };
    const offsetsBefore: number[] = [];
    const offsetsAfter: number[] = [];
    const setup = await laggingFollower({
      payloadBytes: 40_000,
      snapshots: { chunkBytes, chunksInflightMax: 2, chunkTimeoutMs: 50, timeoutsMax: 2 },
      filter: (message, deliver) => {
        // While broken, nothing reaches the follower, so nothing new is acknowledged either.
        if (broken.now) return;
        if (isChunk(message)) {
          (broken.healed ? offsetsAfter : offsetsBefore).push(message.offset);
          if (offsetsBefore.length === 12 && !broken.healed) broken.now = true;
        }
        deliver(message);
      },
    });
    const { cluster } = setup;
    const machine = await restartLagging(setup, 40_000);
    await cluster.runUntil(() => broken.now);
    const sentBefore = cluster.node(setup.leader).status().counters.snapshotsSent;
    // Long enough for the leader to give the transfer up (2 timeouts of 50 ms) and start again.
    const until = cluster.clock.now() + 1000;
    await cluster.runUntil(() => cluster.clock.now() >= until);
    broken.now = false;
    broken.healed = true;
    await expectCaughtUp(setup, machine);
    expect(sentBefore).toBe(0);
    // A new transfer's first window starts at 0 (it asks where the follower is); the follower's
    // answer moves it to where it stood, and none of the 12 KiB it held is written again.
    const resent = offsetsAfter.filter((offset) => offset < 12 * chunkBytes);
    expect(resent.length).toBeLessThanOrEqual(2);
    expect(offsetsAfter.length).toBeGreaterThanOrEqual(40_008 / chunkBytes - 12);
    expect(setup.written).toEqual({ bytes: snapshotBytes(setup), writers: 1 });
  });
});

/**
 * A lagging follower that hears nothing more from the leader once 10 of its chunks arrived;
 * `cut.offsetsFromNew` records the chunks that arrive afterwards (from the next leader).
 */
async function followerCutFromLeaderMidTransfer() {
  const cut = { now: false, chunksFromOld: 0, old: '', offsetsFromNew: [] as number[] };
  const setup = await laggingFollower({
    payloadBytes: 30_000,
    snapshots: { chunkBytes: 1024, chunksInflightMax: 2 },
    filter: (message, deliver) => {
      const fromOld = message.from === cut.old;
      if (fromOld && isChunk(message) && ++cut.chunksFromOld === 10) cut.now = true;
      if (cut.now && fromOld) return;
      if (cut.now && isChunk(message)) cut.offsetsFromNew.push(message.offset);
      deliver(message);
    },
  });
  cut.old = setup.leader;
  return { setup, cut };
}

describe('InstallSnapshot across a leader change', () => {
  it('a new leader’s snapshot wins over the half-received one of the deposed leader, even an older one', async () => {
    const { setup, cut } = await followerCutFromLeaderMidTransfer();
    const { cluster } = setup;
    const other = cluster.ids.find((id) => id !== setup.leader && id !== setup.lagging)!;
    // The other follower's own snapshot stays older than the leader's newest one.
    const otherSnapshot = await cluster.settle(cluster.node(other).snapshot());
    for (let round = 0; round < 5; round++) {
      await cluster.settle(cluster.propose(cluster.node(setup.leader), 'add:0'));
    }
    const leaderSnapshot = await cluster.settle(cluster.node(setup.leader).snapshot());
    expect(leaderSnapshot.meta.index).toBeGreaterThan(otherSnapshot.meta.index);
    const machine = await restartLagging(setup, 30_000);
    await cluster.runUntil(() => cut.now);
    // The old leader is cut off from everyone; the other follower takes over.
    cluster.network.partition([setup.leader], [other, setup.lagging]);
    await cluster.runUntil(() => cluster.node(other).role === 'leader', 30_000);
    await cluster.runUntil(() => machine.restoredFrom !== null, 30_000);
    expect(machine.restoredFrom!.index).toBe(otherSnapshot.meta.index);
    const installed = setup.events.filter(
      (event) => event.kind === 'installed' && event.nodeId === setup.lagging,
    );
    expect(installed).toMatchObject([{ peer: other, index: otherSnapshot.meta.index }]);
    // The deposed leader's half was discarded: two writers opened, one published.
    expect(setup.written.writers).toBe(2);
    const latest = await cluster.storages.get(setup.lagging)!.latestSnapshot();
    expect(latest!.meta.index).toBe(otherSnapshot.meta.index);
    cluster.network.heal();
    await cluster.settle(cluster.propose(cluster.node(other), 'add:100'));
    await cluster.runUntil(() => machine.total === 120, 30_000);
    await cluster.stopAll();
  });

  it('a new leader with the same snapshot continues the transfer where it stopped', async () => {
    const { setup, cut } = await followerCutFromLeaderMidTransfer();
    const { cluster } = setup;
    const other = cluster.ids.find((id) => id !== setup.leader && id !== setup.lagging)!;
    // Both applied the same entries: the other follower's snapshot is byte for byte the leader's.
    const otherSnapshot = await cluster.settle(cluster.node(other).snapshot());
    const leaderSnapshot = cluster.node(setup.leader).status().snapshotIndex;
    expect(otherSnapshot.meta.index).toBe(leaderSnapshot);
    const machine = await restartLagging(setup, 30_000);
    await cluster.runUntil(() => cut.now);
    cluster.network.partition([setup.leader], [other, setup.lagging]);
    await cluster.runUntil(() => machine.restoredFrom !== null, 30_000);
    expect(cluster.node(other).role).toBe('leader');
    expect(setup.written).toEqual({ bytes: snapshotBytes(setup), writers: 1 });
    // The new leader's first window may start at 0; nothing the follower held is written again.
    expect(cut.offsetsFromNew.filter((offset) => offset < 9 * 1024).length).toBeLessThanOrEqual(2);
    await cluster.stopAll();
  });
});

describe('a snapshot larger than the memory budget', () => {
  it('streams 8 MiB through a window of four 64 KiB chunks', async () => {
    const payloadBytes = 8 * 1024 * 1024;
    const chunkBytes = 64 * 1024;
    const flight = { sentEnd: 0, acknowledged: 0, maxAheadBytes: 0 };
    const setup = await laggingFollower({
      payloadBytes,
      snapshots: { chunkBytes, chunksInflightMax: 4 },
      leaderFilter: (message, deliver) => {
        if (message.type === 'install-snapshot-response') {
          const response: InstallSnapshotResponse = message;
          flight.acknowledged = Math.max(flight.acknowledged, response.bytesReceived);
        }
        deliver(message);
      },
      filter: (message, deliver) => {
        if (isChunk(message)) {
          flight.sentEnd = Math.max(flight.sentEnd, message.offset + message.data.byteLength);
          flight.maxAheadBytes = Math.max(
            flight.maxAheadBytes,
            flight.sentEnd - flight.acknowledged,
          );
        }
        deliver(message);
      },
    });
    const machine = await restartLagging(setup, payloadBytes);
    await expectCaughtUp(setup, machine);
    // Never more than the window is between the leader's disk and the follower's.
    expect(flight.maxAheadBytes).toBeLessThanOrEqual(4 * chunkBytes);
    expect(flight.maxAheadBytes).toBeGreaterThan(0);
    expect(machine.largestRestoreChunkBytes).toBeLessThanOrEqual(chunkBytes);
    expect(setup.written.bytes).toBe(snapshotBytes(setup));
    expect(setup.written.bytes).toBeGreaterThan(payloadBytes);
  });
});
