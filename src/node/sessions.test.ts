import { afterEach, describe, expect, it } from 'vitest';
import type { RaftError } from '../core/index.js';
import type { RaftNode } from './raft-node.js';
import type { SnapshotPosition } from './state-machine.js';
import { decodeSessionEntry } from './session-envelope.js';
import { CounterMachine, TestCluster, encode, rejection } from './test-cluster.test-helpers.js';

type CounterNode = RaftNode<number, 'total', number>;

/** The counter with snapshots, so the session table has to travel inside them. */
class SnapshottingCounter extends CounterMachine {
  snapshot(): Iterable<Uint8Array> {
    return [encode(JSON.stringify({ total: this.total }))];
  }

  async restore(chunks: AsyncIterable<Uint8Array>, _position: SnapshotPosition): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    this.total = (JSON.parse(Buffer.concat(parts).toString()) as { total: number }).total;
  }
}

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

/** How many times `command` was applied on each server. */
function appliedCounts(target: TestCluster, command: string): number[] {
  return target.ids.map(
    (id) => target.machines.get(id)!.applied.filter((entry) => entry.command === command).length,
  );
}

async function startCluster(options: ConstructorParameters<typeof TestCluster>[0]) {
  cluster = new TestCluster(options);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await cluster.runUntil(() =>
    [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
  );
  return { cluster, leader };
}

/** Waits until every running server has applied everything the leader has. */
async function converge(target: TestCluster, leader: CounterNode): Promise<void> {
  await target.runUntil(() =>
    [...target.nodes.values()]
      .filter((node) => node.running)
      .every((node) => node.status().appliedIndex >= leader.status().commitIndex),
  );
}

function register(target: TestCluster, node: CounterNode): Promise<number> {
  return target.settle(node.openSession()).then((session) => session.id);
}

describe('§6.3 exactly-once commands with client sessions', () => {
  it('applies a repeated (session, sequence) once and answers the repeat with the first result', async () => {
    const { cluster, leader } = await startCluster({ size: 3 });
    const id = await register(cluster, leader);
    const session = { id, sequence: 1 };
    const first = await cluster.settle(leader.propose(encode('add:5'), { session }));
    await cluster.settle(leader.propose(encode('add:1')));
    const again = await cluster.settle(leader.propose(encode('add:5'), { session }));
    expect(again).toBe(first);
    await converge(cluster, leader);
    expect(appliedCounts(cluster, 'add:5')).toEqual([1, 1, 1]);
    expect(leader.status().counters.sessionAnswersReplayed).toBe(1);
  });

  it('answers a retry on a new leader from the replicated table, not by applying again', async () => {
    const { cluster, leader } = await startCluster({ size: 3 });
    const id = await register(cluster, leader);
    const session = { id, sequence: 1 };
    const first = await cluster.settle(leader.propose(encode('add:7'), { session }));
    await converge(cluster, leader);
    await leader.stop();
    const successor = await cluster.waitForLeader();
    expect(successor.id).not.toBe(leader.id);
    const again = await cluster.settle(successor.propose(encode('add:7'), { session }));
    expect(again).toBe(first);
    await converge(cluster, successor);
    expect(appliedCounts(cluster, 'add:7')).toEqual([1, 1, 1]);
  });

  it('retries a forwarded command whose answer was lost, and the leader applies it once', async () => {
    const { cluster, leader } = await startCluster({
      size: 3,
      extra: () => ({ forwardProposals: true, requestTimeoutMs: 300 }),
    });
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const session = await cluster.settle(follower.openSession());
    expect(session.id).toBeGreaterThan(0);
    let answersDropped = 0;
    // The leader's first answer to a forwarded command never arrives: the follower times out
    // with OUTCOME_UNKNOWN, though the command was applied.
    cluster.network.setInterceptor((message) => {
      if (message.type !== 'forward-result' || answersDropped > 0) return message;
      answersDropped++;
      return null;
    });
    const result = await cluster.settle(session.propose(encode('add:9')), 30_000);
    expect(answersDropped).toBe(1);
    expect(result).toBe(9);
    await converge(cluster, leader);
    expect(appliedCounts(cluster, 'add:9')).toEqual([1, 1, 1]);
    expect(leader.status().counters.sessionAnswersReplayed).toBe(1);
  });

  it('gives up a command at totalTimeoutMs over all its attempts, retry waits included', async () => {
    const { cluster, leader } = await startCluster({
      size: 3,
      extra: () => ({ forwardProposals: true }),
    });
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const session = await cluster.settle(follower.openSession({ attemptsMax: 20 }));
    let attempts = 0;
    // No answer ever comes back: every attempt times out with its outcome unknown.
    cluster.network.setInterceptor((message) => {
      if (message.type !== 'forward-result') return message;
      attempts++;
      return null;
    });
    const started = cluster.clock.now();
    const error = await rejection(
      cluster.settle(
        session.propose(encode('add:4'), { timeoutMs: 100, totalTimeoutMs: 450 }),
        30_000,
      ),
    );
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    // Attempts of 100 ms with waits of 20, 40, 80 ms between them: the fourth is cut to the
    // 10 ms that are left, and no fifth starts. Simulated time, so the figures are exact.
    expect(attempts).toBe(4);
    expect(cluster.clock.now() - started).toBeLessThanOrEqual(451);
    await converge(cluster, leader);
    // Applied once though tried four times: the session numbered every attempt alike.
    expect(appliedCounts(cluster, 'add:4')).toEqual([1, 1, 1]);
  });

  it('refuses a totalTimeoutMs that is not a positive number before proposing anything', async () => {
    const { cluster, leader } = await startCluster({ size: 1 });
    const session = await cluster.settle(leader.openSession());
    for (const totalTimeoutMs of [0, -5, Number.NaN, Infinity]) {
      const error = await rejection(session.propose(encode('add:1'), { totalTimeoutMs }));
      expect(error.code).toBe('INVALID_CONFIG');
      expect((error as RaftError<'INVALID_CONFIG'>).details.option).toBe('totalTimeoutMs');
    }
    expect(session.unansweredCount).toBe(0);
    expect(cluster.machines.get(leader.id)!.applied).toEqual([]);
  });

  it('answers a retry after every server restarted, from the table rebuilt out of the log', async () => {
    const { cluster, leader } = await startCluster({ size: 3 });
    const id = await register(cluster, leader);
    const session = { id, sequence: 1 };
    const first = await cluster.settle(leader.propose(encode('add:4'), { session }));
    await converge(cluster, leader);
    await cluster.stopAll();
    for (const nodeId of cluster.ids) await cluster.startNode(nodeId);
    const restarted = await cluster.waitForLeader();
    const again = await cluster.settle(restarted.propose(encode('add:4'), { session }));
    expect(again).toBe(first);
    await converge(cluster, restarted);
    expect(appliedCounts(cluster, 'add:4')).toEqual([1, 1, 1]);
  });

  it('carries the table in snapshots: after compaction and restart, and to a follower that installs one', async () => {
    cluster = new TestCluster({
      size: 3,
      extra: () => ({ snapshots: { entriesMax: 5, trailingEntries: 1 } }),
    });
    for (const nodeId of cluster.ids) await cluster.startNode(nodeId, new SnapshottingCounter());
    const leader = await cluster.waitForLeader();
    const lagging = cluster.ids.find((nodeId) => nodeId !== leader.id)!;
    cluster.network.partition(
      [lagging],
      cluster.ids.filter((nodeId) => nodeId !== lagging),
    );
    const id = await register(cluster, leader);
    const session = { id, sequence: 1 };
    const first = await cluster.settle(leader.propose(encode('add:3'), { session }));
    for (let round = 0; round < 20; round++) {
      await cluster.settle(leader.propose(encode('add:1')));
    }
    // The session's entries are compacted away on the servers that saw them.
    await cluster.runUntil(() => leader.status().snapshotIndex > 10);
    cluster.network.heal();
    const installed = cluster.node(lagging);
    await cluster.runUntil(() => installed.status().counters.snapshotsInstalled > 0);
    await converge(cluster, leader);
    // The server that only ever saw the snapshot now leads and is asked again.
    await cluster.settle(leader.transferLeadership(lagging));
    await cluster.runUntil(() => installed.role === 'leader');
    const again = await cluster.settle(installed.propose(encode('add:3'), { session }));
    expect(again).toBe(first);
    // And after a restart of everyone, from snapshots whose logs no longer hold the registration.
    await cluster.stopAll();
    for (const nodeId of cluster.ids) await cluster.startNode(nodeId, new SnapshottingCounter());
    const restarted = await cluster.waitForLeader();
    const thrice = await cluster.settle(restarted.propose(encode('add:3'), { session }));
    expect(thrice).toBe(first);
    await converge(cluster, restarted);
    const totals = cluster.ids.map((nodeId) => cluster!.machines.get(nodeId)!.total);
    expect(totals).toEqual([23, 23, 23]);
  });

  it('keeps the table across a graceful stop whose snapshot left no log behind', async () => {
    cluster = new TestCluster({
      size: 3,
      extra: () => ({
        snapshots: { entriesMax: 1_000_000, trailingEntries: 0, stopEntriesMin: 1 },
      }),
    });
    for (const nodeId of cluster.ids) await cluster.startNode(nodeId, new SnapshottingCounter());
    const leader = await cluster.waitForLeader();
    const id = await register(cluster, leader);
    const session = { id, sequence: 1 };
    const first = await cluster.settle(leader.propose(encode('add:5'), { session }));
    await converge(cluster, leader);
    await cluster.stopAll();
    for (const nodeId of cluster.ids) await cluster.startNode(nodeId, new SnapshottingCounter());
    const restarted = await cluster.waitForLeader();
    // Every start restored the stop snapshot: the registration is in no log any more.
    for (const node of cluster.nodes.values()) {
      expect(node.status().snapshotIndex).toBeGreaterThanOrEqual(leader.status().commitIndex);
    }
    const again = await cluster.settle(restarted.propose(encode('add:5'), { session }));
    expect(again).toBe(first);
    await converge(cluster, restarted);
    expect(cluster.ids.map((nodeId) => cluster!.machines.get(nodeId)!.total)).toEqual([5, 5, 5]);
  });

  it('expires an idle session by log time on every server alike, with a typed error', async () => {
    const { cluster, leader } = await startCluster({
      size: 3,
      extra: () => ({ sessions: { timeoutMs: 500 } }),
    });
    const idle = await register(cluster, leader);
    const busy = await register(cluster, leader);
    for (let sequence = 1; sequence <= 3; sequence++) {
      await cluster.runUntil(() => false, 300).catch(() => undefined);
      await cluster.settle(leader.propose(encode('add:1'), { session: { id: busy, sequence } }));
    }
    const error = await cluster.settle(
      rejection(leader.propose(encode('add:100'), { session: { id: idle, sequence: 1 } })),
    );
    expect(error.code).toBe('SESSION_EXPIRED');
    expect(error.details).toMatchObject({ sessionId: idle, sequence: 1 });
    await converge(cluster, leader);
    const refused = cluster.ids.map(
      (nodeId) => cluster.node(nodeId).status().counters.sessionCommandsRefused,
    );
    expect(refused).toEqual([1, 1, 1]);
    expect(appliedCounts(cluster, 'add:100')).toEqual([0, 0, 0]);
  });

  it('renews an expired session by itself when the command cannot have applied', async () => {
    const { cluster, leader } = await startCluster({
      size: 3,
      extra: () => ({ sessions: { timeoutMs: 500 } }),
    });
    const session = await cluster.settle(leader.openSession());
    const expiredId = session.id;
    const other = await cluster.settle(leader.openSession());
    await cluster.runUntil(() => false, 800).catch(() => undefined);
    await cluster.settle(other.propose(encode('add:1'))); // moves log time past the timeout
    const result = await cluster.settle(session.propose(encode('add:2')));
    expect(result).toBe(3);
    expect(session.id).not.toBe(expiredId);
    await converge(cluster, leader);
    expect(appliedCounts(cluster, 'add:2')).toEqual([1, 1, 1]);
  });

  it('acknowledges with each command every answer its session has already received', async () => {
    const { cluster, leader } = await startCluster({ size: 1 });
    const session = await cluster.settle(leader.openSession());
    const first = session.propose(encode('add:1'));
    const second = session.propose(encode('add:2'));
    await cluster.settle(Promise.all([first, second]));
    const third = session.propose(encode('add:3'));
    await cluster.settle(third);
    const storage = cluster.storages.get(leader.id)!;
    const entries = await storage.entries(1, leader.status().lastIndex + 1);
    const acknowledged = entries.flatMap((entry) => {
      if (entry.kind !== 'session') return [];
      const record = decodeSessionEntry(entry.data);
      return record.kind === 'command' ? [[record.sequence, record.lowestUnacknowledged]] : [];
    });
    // While 1 waits, 1 is the lowest unanswered; once 1 and 2 are answered, 3 is.
    expect(acknowledged).toEqual([
      [1, 1],
      [2, 1],
      [3, 3],
    ]);
  });

  it('refuses invalid session stamps before anything reaches the log', async () => {
    const { cluster, leader } = await startCluster({ size: 1 });
    const bad = [
      { id: 0, sequence: 1 },
      { id: 1, sequence: 0 },
      { id: 1, sequence: 2, lowestUnacknowledged: 3 },
      { id: 1.5, sequence: 1 },
    ];
    for (const session of bad) {
      const error = await rejection(leader.propose(encode('add:1'), { session }));
      expect(error.code).toBe('INVALID_CONFIG');
      expect((error as RaftError<'INVALID_CONFIG'>).details.option).toMatch(/^session/);
    }
    expect(cluster.machines.get(leader.id)!.applied).toEqual([]);
  });

  it('leaves plain commands without an envelope: the log holds them as plain command entries', async () => {
    const { cluster, leader } = await startCluster({ size: 1 });
    await cluster.settle(leader.propose(encode('add:1')));
    const storage = cluster.storages.get(leader.id)!;
    const entries = await storage.entries(1, leader.status().lastIndex + 1);
    const commands = entries.filter((entry) => entry.kind === 'command');
    expect(commands.map((entry) => entry.kind === 'command' && [...entry.data])).toEqual([
      [...encode('add:1')],
    ]);
    expect(entries.some((entry) => entry.kind === 'session')).toBe(false);
  });
});
