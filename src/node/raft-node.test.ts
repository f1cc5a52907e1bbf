import { afterEach, describe, expect, it } from 'vitest';
import { isSafeToRetry, type RaftError } from '../core/index.js';
import { realClock } from '../platform/clock.js';
import { RaftNode } from './raft-node.js';
import { MemoryStorage } from '../storage/memory/index.js';
import { InProcessNetwork } from '../transport/in-process/index.js';
import { CounterMachine, TestCluster, encode, rejection } from './test-cluster.test-helpers.js';

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) {
    const stopping = cluster.stopAll();
    if (cluster.simulated !== null) await cluster.settle(stopping, 60_000);
    else await stopping;
  }
  cluster = null;
});

describe('RaftNode: elections', () => {
  it.each([3, 5])('elects one leader in a %i-node cluster on simulated time', async (size) => {
    cluster = new TestCluster({ size });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() =>
      [...cluster!.nodes.values()].every((node) => node.leaderId === leader.id),
    );
    const leaders = [...cluster.nodes.values()].filter((node) => node.role === 'leader');
    expect(leaders).toHaveLength(1);
  });

  it('elects a leader with real timers', async () => {
    cluster = new TestCluster({ size: 3, clock: realClock });
    await cluster.start();
    const leader = await cluster.waitForLeader(5000);
    expect(leader.role).toBe('leader');
  });

  it('elects a new leader after the leader stops, with real timers', async () => {
    cluster = new TestCluster({ size: 3, clock: realClock });
    await cluster.start();
    const first = await cluster.waitForLeader(5000);
    await cluster.propose(first, 'add:1');
    await first.stop();
    const second = await cluster.waitForLeader(5000);
    expect(second.id).not.toBe(first.id);
    expect(await cluster.propose(second, 'add:2')).toBe(3);
  });

  it('elects a new leader within the election timeout range after the leader stops', async () => {
    cluster = new TestCluster({ size: 5 });
    await cluster.start();
    const first = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(first, 'add:1'));
    const stoppedAt = cluster.clock.now();
    await cluster.settle(first.stop());
    const second = await cluster.waitForLeader();
    expect(second.id).not.toBe(first.id);
    // tickMs 10 and 10 election ticks: a follower campaigns 100-200 ms after its last heartbeat;
    // PreVote adds one round trip. Allow two full timeouts for a split vote.
    expect(cluster.clock.now() - stoppedAt).toBeLessThanOrEqual(400);
  });
});

describe('RaftNode: proposals', () => {
  it.each([3, 5])(
    'resolves a thousand concurrent proposals with their own results, in log order (%i nodes)',
    async (size) => {
      cluster = new TestCluster({ size });
      await cluster.start();
      const leader = await cluster.waitForLeader();
      const results = await cluster.settle(
        Promise.all(
          Array.from({ length: 1000 }, (_, n) => cluster!.propose(leader, `add:${n + 1}`)),
        ),
      );
      // Command n adds n+1, so in log order its result is the running sum up to it.
      expect(results).toEqual(Array.from({ length: 1000 }, (_, n) => ((n + 1) * (n + 2)) / 2));
      await cluster.runUntil(() =>
        [...cluster!.machines.values()].every((machine) => machine.applied.length === 1000),
      );
      const sequences = [...cluster.machines.values()].map((machine) =>
        machine.applied.map((applied) => applied.command),
      );
      for (const sequence of sequences) expect(sequence).toEqual(sequences[0]);
      // Batching: far fewer storage writes than proposals on the leader.
      expect(leader.status().counters.storageWrites).toBeLessThan(100);
    },
  );

  it('resolves a thousand concurrent proposals in log order with real timers', async () => {
    cluster = new TestCluster({ size: 3, clock: realClock });
    await cluster.start();
    const leader = await cluster.waitForLeader(5000);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => cluster!.propose(leader, `add:${n + 1}`)),
    );
    expect(results).toEqual(Array.from({ length: 1000 }, (_, n) => ((n + 1) * (n + 2)) / 2));
  });

  it('redirects a proposal on a follower to the leader with NOT_LEADER', async () => {
    cluster = new TestCluster({
      size: 3,
      extra: () => ({ addressOf: (id) => `${id}.local:7000` }),
    });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() =>
      [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
    );
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const error = await rejection(cluster.propose(follower, 'add:1'));
    expect(error).toMatchObject({
      code: 'NOT_LEADER',
      details: { leaderId: leader.id, leaderAddress: `${leader.id}.local:7000` },
    });
  });

  it('forwards proposals from followers and returns the leader result', async () => {
    cluster = new TestCluster({ size: 3, extra: () => ({ forwardProposals: true }) });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() =>
      [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
    );
    const followers = [...cluster.nodes.values()].filter((node) => node !== leader);
    const results = await cluster.settle(
      Promise.all([
        cluster.propose(followers[0]!, 'add:5'),
        cluster.propose(followers[1]!, 'add:7'),
        cluster.propose(leader, 'add:11'),
      ]),
    );
    expect([...results].sort((a, b) => a - b).at(-1)).toBe(23);
    expect(new Set(results).size).toBe(3);
    expect(followers[0]!.status().counters.proposalsForwarded).toBe(1);
  });

  it('does not apply a forwarded proposal twice when the network duplicates it', async () => {
    cluster = new TestCluster({ size: 3, extra: () => ({ forwardProposals: true }) });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() =>
      [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
    );
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    cluster.network.setFaults({ duplicateRate: 1 });
    const result = await cluster.settle(cluster.propose(follower, 'add:3'));
    expect(result).toBe(3);
    await cluster.runUntil(() => leader.status().counters.duplicateForwardsIgnored > 0);
    expect(cluster.machines.get(leader.id)!.total).toBe(3);
  });

  it('tells a forwarding caller at once when the leader it forwarded to is replaced', async () => {
    cluster = new TestCluster({
      size: 3,
      extra: () => ({ forwardProposals: true, requestTimeoutMs: 60_000 }),
    });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() =>
      [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
    );
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    // The old leader hears nothing more: the forward is lost with it.
    cluster.network.partition(
      [leader.id],
      cluster.ids.filter((id) => id !== leader.id),
    );
    const started = cluster.clock.now();
    const error = await cluster.settle(rejection(cluster.propose(follower, 'add:1')), 60_000);
    expect(error).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { reason: 'leader-changed' } });
    expect(cluster.clock.now() - started).toBeLessThan(10_000);
  });

  it('rejects with NO_LEADER while no leader is known', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const error = await rejection(cluster.propose(cluster.node('n1'), 'add:1'));
    expect(error.code).toBe('NO_LEADER');
    expect(error.details.outcome).toBe('not-applied');
    expect(isSafeToRetry(error)).toBe(true);
  });

  it('honours an AbortSignal and a timeout, saying whether the command may still apply', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const aborted = new AbortController();
    aborted.abort();
    const early = await rejection(leader.propose(encode('add:1'), { signal: aborted.signal }));
    expect(early.code).toBe('ABORTED');
    expect(early.details.outcome).toBe('not-applied');
    // Cut the leader off: its proposal enters its log but cannot commit, so its fate is unknown.
    cluster.network.partition(
      [leader.id],
      cluster.ids.filter((id) => id !== leader.id),
    );
    const late = await cluster.settle(
      rejection(leader.propose(encode('add:2'), { timeoutMs: 50 })),
    );
    expect(late).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { reason: 'timeout' } });
    // Requests sharing one signal are all given up on when it aborts, after entering the log.
    const shared = new AbortController();
    const sharing = [encode('add:3'), encode('add:4')].map((command) =>
      rejection(leader.propose(command, { signal: shared.signal })),
    );
    await new Promise((resolve) => setImmediate(resolve));
    shared.abort();
    const given = await cluster.settle(Promise.all(sharing));
    for (const error of given) {
      expect(error).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { reason: 'aborted' } });
    }
    expect(given).toHaveLength(2);
  });
});

describe('RaftNode: apply failures', () => {
  it('retries a failed apply when commands are idempotent', async () => {
    cluster = new TestCluster({ size: 3, extra: () => ({ idempotentCommands: true }) });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    cluster.machines.get(leader.id)!.failuresToInject = 2;
    expect(await cluster.settle(cluster.propose(leader, 'add:4'))).toBe(4);
    expect(leader.status().counters.applyRetries).toBe(2);
  });

  it('stops with APPLY_FAILED and refuses to restart until the mark is cleared', async () => {
    cluster = new TestCluster({ size: 1 });
    await cluster.start();
    const node = await cluster.waitForLeader();
    const errors: string[] = [];
    node.on('error', ({ error, fatal }) => errors.push(`${error.code}:${fatal}`));
    cluster.machines.get(node.id)!.failuresToInject = 1;
    const failed = await cluster.settle(rejection(cluster.propose(node, 'add:1')));
    expect(failed.code).toBe('APPLY_FAILED');
    await cluster.runUntil(() => !node.running);
    expect(errors).toEqual(['APPLY_FAILED:true']);
    // The mark is written on the way down, once no other storage call is under way.
    await cluster.settle(node.stop());

    const restart = await rejection(cluster.startNode(node.id));
    expect(restart.code).toBe('APPLY_FAILED');

    const { clearBrokenMark } = await import('./broken-mark.js');
    await clearBrokenMark(cluster.storages.get(node.id)!);
    const again = await cluster.startNode(node.id);
    await cluster.waitForLeader();
    expect(again.running).toBe(true);
  });
});

describe('RaftNode: durability and lifecycle', () => {
  it('restarts on the same storage with its log, term and vote intact', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(Promise.all([1, 2, 3].map((n) => cluster!.propose(leader, `add:${n}`))));
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    await cluster.runUntil(() => follower.status().appliedIndex === leader.status().commitIndex);
    const before = follower.status();
    await cluster.settle(follower.stop());
    const restarted = await cluster.startNode(follower.id);
    const after = restarted.status();
    expect(after.term).toBe(before.term);
    expect(after.vote).toBe(before.vote);
    expect(after.lastIndex).toBe(before.lastIndex);
    // An in-memory state machine starts empty and catches up from the log.
    await cluster.runUntil(() => cluster!.machines.get(follower.id)!.total === 6);
  });

  it('stops with STORAGE_FAILED when a write fails, settling every caller', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    cluster.storages.get(leader.id)!.failNextWrite();
    const error = await cluster.settle(rejection(cluster.propose(leader, 'add:1')));
    expect(['STORAGE_FAILED', 'OUTCOME_UNKNOWN']).toContain(error.code);
    await cluster.runUntil(() => !leader.running);
    expect((await rejection(cluster.propose(leader, 'add:1'))).code).toBe('STOPPED');
  });

  it('emits typed events and mirrors them on diagnostics_channel', async () => {
    const diagnostics = await import('node:diagnostics_channel');
    const seen: string[] = [];
    const listener = (message: unknown): void => {
      seen.push((message as { nodeId: string }).nodeId);
    };
    diagnostics.subscribe('raftkit:node:role', listener);
    try {
      cluster = new TestCluster({ size: 3 });
      await cluster.start();
      const roles: string[] = [];
      for (const node of cluster.nodes.values()) node.on('role', ({ role }) => roles.push(role));
      const leader = await cluster.waitForLeader();
      const applied: number[] = [];
      leader.on('applied', ({ appliedIndex }) => applied.push(appliedIndex));
      await cluster.settle(cluster.propose(leader, 'add:1'));
      expect(roles).toContain('leader');
      expect(seen).toContain(leader.id);
      expect(applied.at(-1)).toBe(leader.status().appliedIndex);
    } finally {
      diagnostics.unsubscribe('raftkit:node:role', listener);
    }
  });

  it('stops gracefully and idempotently; later calls reject with STOPPED', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const inFlight = cluster.propose(leader, 'add:9');
    const stopping = Promise.all([leader.stop(), leader.stop()]);
    const outcome = await cluster.settle(inFlight.then(String, (error: RaftError) => error.code));
    await cluster.settle(stopping);
    // Either it committed during the drain or the caller is told it may have.
    expect(['9', 'STOPPED', 'OUTCOME_UNKNOWN']).toContain(outcome);
    expect((await rejection(cluster.propose(leader, 'add:1'))).code).toBe('STOPPED');
  });

  it('uses the stored configuration after the first boot, not the initial one', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    await cluster.waitForLeader();
    await cluster.settle(cluster.node('n1').stop());
    const restarted = new RaftNode({
      id: 'n1',
      storage: cluster.storages.get('n1')!,
      transport: cluster.network.transport(),
      stateMachine: new CounterMachine(),
      initialConfiguration: ['n1', 'other'],
      clock: cluster.clock,
    });
    await restarted.start();
    expect(restarted.status().configuration.voters).toEqual(cluster.ids);
    await cluster.settle(restarted.stop());
  });

  it('rejects an initial configuration that leaves this node out', () => {
    expect(
      () =>
        new RaftNode({
          id: 'n9',
          storage: new MemoryStorage(),
          transport: new InProcessNetwork().transport(),
          stateMachine: new CounterMachine(),
          initialConfiguration: ['n1', 'n2'],
        }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});

describe('RaftNode: reads', () => {
  it('serves linearizable reads on the leader and on followers after a write', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() =>
      [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
    );
    await cluster.settle(cluster.propose(leader, 'add:42'));
    for (const node of cluster.nodes.values()) {
      // A follower may not have applied the write yet; a linearizable read must wait until it has.
      expect(await cluster.settle(node.read('total'))).toBe(42);
    }
    const logBefore = leader.status().lastIndex;
    await cluster.settle(Promise.all([leader.read('total'), leader.read('total')]));
    expect(leader.status().lastIndex).toBe(logBefore);
  });

  it('serves lease and stale reads', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(leader, 'add:5'));
    expect(await cluster.settle(leader.read('total', { consistency: 'lease' }))).toBe(5);
    const follower = [...cluster.nodes.values()].find((node) => node !== leader)!;
    const stale = await follower.read('total', { consistency: 'stale' });
    expect([0, 5]).toContain(stale);
  });

  it('refuses a linearizable read on a leader that cannot confirm its leadership', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(leader, 'add:1'));
    cluster.network.partition(
      [leader.id],
      cluster.ids.filter((id) => id !== leader.id),
    );
    const error = await cluster.settle(rejection(leader.read('total', { timeoutMs: 5000 })));
    // CheckQuorum deposes the isolated leader and the pending read fails rather than answer stale.
    expect(['NO_LEADER', 'NOT_LEADER']).toContain(error.code);
  });
});

describe('RaftNode: types', () => {
  it('a node with typed results is usable where any node is expected', () => {
    const typed: RaftNode<number, 'total', number> = new RaftNode({
      id: 'n1',
      storage: new MemoryStorage(),
      transport: new InProcessNetwork().transport(),
      stateMachine: new CounterMachine(),
      initialConfiguration: ['n1'],
    });
    // This line is the test: it must compile.
    const nodes: RaftNode[] = [typed];
    expect(nodes[0]!.id).toBe('n1');
  });
});
