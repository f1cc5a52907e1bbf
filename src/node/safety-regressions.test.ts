// Safety properties checked at the level a user sees: a RaftNode cluster on simulated time. Each
// one guards a corner where a plausible implementation loses or invents an outcome.
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftError } from '../core/index.js';
import type { Message } from '../transport/transport.js';
import { MemoryStorage } from '../storage/memory/index.js';
import { InProcessNetwork } from '../transport/in-process/index.js';
import { realClock } from '../platform/clock.js';
import { resolveNodeOptions } from './node-options.js';
import { jsonResultCodec } from './state-machine.js';
import { CounterMachine, TestCluster } from './test-cluster.test-helpers.js';

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

/** A started 3-node cluster whose members all know the leader. */
async function startedCluster(
  options: ConstructorParameters<typeof TestCluster>[0] = { size: 3 },
): Promise<TestCluster> {
  cluster = new TestCluster(options);
  await cluster.start();
  await cluster.waitForLeader();
  await cluster.runUntil(() =>
    [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
  );
  return cluster;
}

describe('a malformed message from a peer', () => {
  it('is dropped and counted, and the receiving node keeps running', async () => {
    const running = await startedCluster();
    const leader = running.leader()!;
    const victim = [...running.nodes.values()].find((node) => node !== leader)!;
    let corrupted = 0;
    // The leader's next append to the victim arrives with a gap between its entries.
    running.network.setInterceptor((message: Message): Message => {
      if (
        corrupted > 0 ||
        message.type !== 'append-entries' ||
        message.to !== victim.id ||
        message.entries.length === 0
      ) {
        return message;
      }
      corrupted++;
      const first = message.entries[0]!;
      return { ...message, entries: [first, { ...first, index: first.index + 5 }] };
    });
    const before = victim.status().counters.messagesRejected;
    await running.settle(running.propose(leader, 'add:5'));
    expect(corrupted).toBe(1);
    running.network.setInterceptor(null);
    await running.settle(running.propose(leader, 'add:7'));
    await running.runUntil(() => running.machines.get(victim.id)!.total === 12);
    expect(victim.running).toBe(true);
    expect(victim.status().counters.messagesRejected).toBe(before + 1);
  });
});

describe('forwarded writes the leader appends in several parts', () => {
  it('give each caller its own outcome: a refused later part does not drop the commands before it', async () => {
    // The leader appends two commands per batch and refuses a batch over 10 uncommitted bytes: of
    // four 8-byte commands arriving together, the first two enter the log and the last two do not.
    // The forwarding follower (n3) sends all four in one message.
    const running = await startedCluster({
      size: 3,
      extra: (id) => ({
        forwardProposals: true,
        proposalBatchMax: id === 'n3' ? 4096 : 2,
        core: { uncommittedBytesMax: 10 },
      }),
    });
    const first = running.leader()!;
    if (first.id === 'n3') await running.settle(first.transferLeadership('n1'));
    await running.runUntil(() => running.node('n3').leaderId === running.leader()?.id);
    const leader = running.leader()!;
    await running.runUntil(() => leader.status().commitIndex === leader.status().lastIndex);

    const follower = running.node('n3');
    const calls = [1, 2, 3, 4].map((position) =>
      running.propose(follower, `add:100${position}`).then(
        (total) => ({ total }),
        (error: RaftError) => ({ code: error.code }),
      ),
    );
    const outcomes = await running.settle(Promise.all(calls));
    expect(outcomes).toEqual([
      { total: 1001 },
      { total: 2003 },
      { code: 'PROPOSAL_DROPPED' },
      { code: 'PROPOSAL_DROPPED' },
    ]);
    await running.runUntil(() => running.machines.get(follower.id)!.total === 2003);
    expect(running.machines.get(leader.id)!.applied.map((entry) => entry.command)).toEqual([
      'add:1001',
      'add:1002',
    ]);
  });
});

describe('read contexts across a restart', () => {
  it('a read-index answer delayed across a restart does not answer a new read at its old index', async () => {
    const running = await startedCluster();
    const leader = running.leader()!;
    const victim = [...running.nodes.values()].find((node) => node !== leader)!;
    await running.settle(running.propose(leader, 'add:5'));
    await running.runUntil(() => running.machines.get(victim.id)!.total === 5);

    // The victim's first read: its answer is held back by the network.
    let held: Message | null = null;
    running.network.setInterceptor((message) => {
      if (held === null && message.type === 'read-index-response' && message.to === victim.id) {
        held = message;
        return null;
      }
      return message;
    });
    void victim.read('total', { timeoutMs: 50 }).catch(() => undefined);
    await running.runUntil(() => held !== null);
    await running.settle(victim.stop());

    // While it is down the cluster acknowledges add:10; afterwards the victim gets no entries.
    await running.settle(running.propose(leader, 'add:10'));
    let injected = false;
    let readStarted = false;
    running.network.setInterceptor((message) => {
      if (message.to !== victim.id || message.from !== leader.id) return message;
      if (message.type === 'append-entries' && message.entries.length > 0) return null;
      // The held answer arrives in place of the heartbeat that confirms the new read.
      if (readStarted && !injected && message.type === 'heartbeat') {
        injected = true;
        return held;
      }
      return message;
    });
    const restarted = await running.startNode(victim.id);
    await running.runUntil(() => restarted.leaderId === leader.id);
    expect(running.machines.get(victim.id)!.total).toBe(5);
    const read = restarted.read('total');
    readStarted = true;
    await running.runUntil(() => injected);
    running.network.setInterceptor(null);
    // add:10 was acknowledged before this read began: 5 would be a stale answer.
    expect(await running.settle(read)).toBe(15);
  });
});

describe('the commit index across a restart', () => {
  it('a restarted node re-applies up to the commit index it knew, before hearing from anyone', async () => {
    const running = await startedCluster();
    const leader = running.leader()!;
    const victim = [...running.nodes.values()].find((node) => node !== leader)!;
    for (const amount of [1, 2, 3]) await running.settle(running.propose(leader, `add:${amount}`));
    await running.runUntil(() => running.machines.get(victim.id)!.total === 6);
    await running.settle(victim.stop());
    // Nobody can reach the restarted node: what it applies comes from its own storage.
    running.network.partition(
      [victim.id],
      running.ids.filter((id) => id !== victim.id),
    );
    await running.startNode(victim.id);
    // Entry 4 (add:3) may have become committed only after it was saved: 1 + 2 is certain.
    await running.runUntil(() => running.machines.get(victim.id)!.total >= 3, 1000);
  });
});

describe('invalid per-call options', () => {
  it('are refused before anything enters the log, so timeoutMs 0 leaves no entry of unknown outcome', async () => {
    const running = await startedCluster();
    const leader = running.leader()!;
    const lastIndex = leader.status().lastIndex;
    for (const options of [{ timeoutMs: 0 }, { timeoutMs: -5 }, { timeoutMs: Number.NaN }]) {
      const outcome = await running.settle(
        leader.propose(new TextEncoder().encode('add:1'), options).then(
          () => null,
          (error: unknown) => error,
        ),
      );
      expect(outcome).toMatchObject({ code: 'INVALID_CONFIG', details: { option: 'timeoutMs' } });
    }
    await running.runUntil(() => true);
    expect(leader.status().lastIndex).toBe(lastIndex);
    expect(running.machines.get(leader.id)!.total).toBe(0);
  });
});

describe('clockDriftBoundMs', () => {
  it('becomes whole ticks, rounded up, and must leave a lease', () => {
    const base = {
      id: 'n1',
      storage: new MemoryStorage(),
      transport: new InProcessNetwork().transport(),
      stateMachine: new CounterMachine(),
      tickMs: 100,
    };
    const resolve = (clockDriftBoundMs: number) =>
      resolveNodeOptions({ ...base, clockDriftBoundMs }, realClock, jsonResultCodec);
    expect(resolve(150).core.clockDriftBoundTicks).toBe(2);
    expect(resolve(0).core.clockDriftBoundTicks).toBe(0);
    // Ten election ticks leave at most eight for drift.
    expect(() => resolve(801)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolve(-1)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
