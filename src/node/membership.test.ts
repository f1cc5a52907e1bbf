import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, type Configuration, type NodeId } from '../core/index.js';
import { MemoryStorage } from '../storage/memory/index.js';
import type { MembershipEvent } from './configuration-watcher.js';
import { RaftNode } from './raft-node.js';
import { CounterMachine, TestCluster, encode, rejection } from './test-cluster.test-helpers.js';

type Node = RaftNode<number, 'total', number>;

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

/** Starts `id` on fresh (or the given) storage in join mode, asking the first three members. */
async function startJoining(
  test: TestCluster,
  id: NodeId,
  storage = new MemoryStorage(),
): Promise<Node> {
  test.storages.set(id, storage);
  const machine = new CounterMachine();
  const node = new RaftNode<number, 'total', number>({
    id,
    storage,
    transport: test.network.transport(),
    stateMachine: machine,
    join: { contacts: ['n1', 'n2', 'n3'].filter((contact) => contact !== id) },
    clock: test.clock,
    tickMs: 10,
    random: seededRandom(7 + id.length),
    catchUpRoundsMax: 3,
  });
  test.nodes.set(id, node);
  test.machines.set(id, machine);
  await test.settle(node.start());
  return node;
}

/** Keeps proposing on whichever node leads while `running()` holds; returns acknowledged totals. */
function proposeUnderLoad(test: TestCluster, running: () => boolean): Promise<number> {
  let acknowledged = 0;
  const loop = async (): Promise<number> => {
    while (running()) {
      const leader = test.leader();
      if (leader !== null) {
        try {
          await leader.propose(encode('add:1'), { timeoutMs: 500 });
          acknowledged++;
        } catch {
          // A proposal refused during a change or an election is retried by the next turn.
        }
      }
      await new Promise<void>((resolve) => test.clock.schedule(5, resolve));
    }
    return acknowledged;
  };
  return loop();
}

function votersOf(node: Node): readonly string[] {
  return [...node.status().configuration.voters].sort();
}

describe('RaftNode membership: adding servers', () => {
  it('adds a voter under load: learner first, promoted once caught up, events on every node', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const events: MembershipEvent[] = [];
    for (const node of cluster.nodes.values()) node.on('membership', (event) => events.push(event));
    const leader = await cluster.waitForLeader();
    for (let count = 0; count < 20; count++) await cluster.settle(cluster.propose(leader, 'add:1'));
    const joining = await startJoining(cluster, 'n4');
    joining.on('membership', (event) => events.push(event));
    expect(joining.status().configuration.voters).toEqual([]);
    let loading = true;
    const load = proposeUnderLoad(cluster, () => loading);
    const configuration = await cluster.settle(
      leader.addVoter('n4', { address: 'n4:7000' }),
      30_000,
    );
    loading = false;
    const acknowledged = await cluster.settle(load);
    expect([...configuration.voters].sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(configuration.addresses).toMatchObject({ n4: 'n4:7000' });
    expect(acknowledged).toBeGreaterThan(0);
    await cluster.runUntil(() => joining.status().configuration.voters.includes('n4'));
    // Every server told its application: the learner entry and the promotion, appended and committed.
    for (const id of ['n1', 'n2', 'n3', 'n4']) {
      const seen = events.filter((event) => event.nodeId === id);
      expect(
        seen.some(
          (event) => event.change === 'committed' && event.configuration.voters.includes('n4'),
        ),
        id,
      ).toBe(true);
    }
    for (const id of ['n1', 'n2', 'n3']) {
      const seen = events.filter((event) => event.nodeId === id);
      expect(
        seen.some(
          (event) => event.change === 'appended' && event.configuration.learners.includes('n4'),
        ),
        id,
      ).toBe(true);
    }
    expect(leader.status().counters.membershipCommitted).toBeGreaterThanOrEqual(2);
    // Every acknowledged write is on the new voter.
    const total = cluster.machines.get(leader.id)!.total;
    await cluster.runUntil(() => cluster!.machines.get('n4')!.total === total);
  });

  it('tells a joining server the leader and the configuration', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const joining = await startJoining(cluster, 'n4');
    expect(joining.leaderId).toBe(leader.id);
    expect(joining.joinedConfiguration?.voters).toEqual(['n1', 'n2', 'n3']);
  });

  it('refuses a second change while one is under way', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(leader, 'add:1'));
    const first = leader.addLearner('n4', { address: 'n4:1' });
    const second = await rejection(leader.addLearner('n5'));
    expect(second.code).toBe('CHANGE_IN_PROGRESS');
    await cluster.settle(first);
  });

  it('fails promotion with CATCH_UP_FAILED when the learner never catches up', async () => {
    cluster = new TestCluster({ size: 3, extra: () => ({ catchUpRoundsMax: 3 }) });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(leader, 'add:1'));
    // n4 is added but never started: a joining server that crashed before it caught up.
    await cluster.settle(leader.addLearner('n4'));
    const started = cluster.clock.now();
    const error = await rejection(cluster.settle(leader.promote('n4'), 30_000));
    expect(error.code).toBe('CATCH_UP_FAILED');
    expect(error.details).toMatchObject({ id: 'n4', rounds: 3 });
    // Bounded by the rounds: three election timeouts (at most 20 ticks of 10 ms each) and a poll.
    expect(cluster.clock.now() - started).toBeLessThan(3 * 200 + 100);
    expect(votersOf(leader)).toEqual(['n1', 'n2', 'n3']);
    // The cluster still works, and the learner that never came can be removed.
    await cluster.settle(cluster.propose(leader, 'add:1'));
    const after = await cluster.settle(leader.removeServer('n4'));
    expect(after.learners).toEqual([]);
  });
});

describe('RaftNode membership: removing and replacing servers', () => {
  it('removes a server that is down', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const down = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.settle(cluster.node(down).stop());
    const configuration = await cluster.settle(leader.removeServer(down));
    expect(configuration.voters).not.toContain(down);
    expect(await cluster.settle(cluster.propose(leader, 'add:5'))).toBe(5);
  });

  it('moves {1,2,3} to {3,4,5} through a joint configuration, the old leader stepping down', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const first = await cluster.waitForLeader();
    // Make n3 the one that stays, so the leader is among the servers that leave.
    if (first.id === 'n3') await cluster.settle(first.transferLeadership('n1'));
    const leader = await cluster.waitForLeader();
    expect(leader.id).not.toBe('n3');
    await cluster.settle(cluster.propose(leader, 'add:2'));
    const n4 = await startJoining(cluster, 'n4');
    const n5 = await startJoining(cluster, 'n5');
    const events: MembershipEvent[] = [];
    n5.on('membership', (event) => events.push(event));
    await cluster.settle(leader.addLearner('n4'));
    await cluster.settle(leader.addLearner('n5'));
    const configuration = await cluster.settle(
      leader.changeMembership({ voters: ['n3', 'n4', 'n5'] }),
      30_000,
    );
    expect(configuration).toMatchObject({ voters: ['n3', 'n4', 'n5'], outgoingVoters: [] });
    // The joint configuration came first, then the leave step the leader appended by itself.
    await cluster.runUntil(() => n5.status().appliedIndex >= leader.status().commitIndex);
    const committed = events.filter((event) => event.change === 'committed');
    expect(committed.some((event) => event.configuration.outgoingVoters.length === 3)).toBe(true);
    expect(committed.at(-1)!.configuration.outgoingVoters).toEqual([]);
    await cluster.runUntil(() => leader.role !== 'leader');
    const next = await cluster.waitForLeader();
    expect(['n3', 'n4', 'n5']).toContain(next.id);
    expect(await cluster.settle(cluster.propose(next, 'add:3'))).toBe(5);
    await cluster.runUntil(() => n4.status().appliedIndex === next.status().commitIndex);
    expect(cluster.machines.get('n4')!.total).toBe(5);
    // The servers that left never campaign again: one more election timeout changes nothing.
    const term = next.status().term;
    await cluster.runUntil(() => false, 400).catch(() => undefined);
    expect(next.status().term).toBe(term);
    expect(next.role).toBe('leader');
  });

  const protections = [
    { preVote: true, checkQuorum: true },
    { preVote: false, checkQuorum: true },
    // Neither PreVote nor leader stickiness: only the members' configuration keeps it out.
    { preVote: false, checkQuorum: false },
  ];
  for (const { preVote, checkQuorum } of protections) {
    it(`a server removed while down comes back and cannot disrupt (preVote ${preVote}, checkQuorum ${checkQuorum})`, async () => {
      // It never learned of its removal: it keeps the old configuration, hears no leader and
      // campaigns. The members no longer count it, so its requests fail without moving anyone's
      // term, and the leader keeps leading (thesis §4.2.3).
      const test = new TestCluster({
        size: 3,
        extra: () => ({ initialSettings: { preVote, checkQuorum } }),
      });
      cluster = test;
      await test.start();
      const leader = await test.waitForLeader();
      const removed = test.ids.find((id) => id !== leader.id)!;
      await test.settle(test.node(removed).stop());
      await test.settle(leader.removeServer(removed));
      const term = leader.status().term;
      const returned = await test.startNode(removed);
      expect(returned.status().configuration.voters).toContain(removed);
      // Three campaigns at least: one request to each of the two others per round.
      await test.runUntil(() => returned.status().counters.messagesSent >= 6, 30_000);
      expect(returned.status().counters.messagesReceived).toBe(0);
      const members = test.ids.filter((id) => id !== removed).map((id) => test.node(id));
      for (const member of members) expect(member.status().term).toBe(term);
      expect(leader.role).toBe('leader');
      expect(returned.role).not.toBe('leader');
      // Without PreVote its own term climbs with every campaign; with it, not even that.
      if (preVote) expect(returned.status().term).toBe(term);
      else expect(returned.status().term).toBeGreaterThan(term + 2);
      expect(await test.settle(test.propose(leader, 'add:7'))).toBe(7);
    });
  }

  it('refuses a voter that lost its disk, and takes it back after remove and add', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(leader, 'add:4'));
    const lost = cluster.ids.find((id) => id !== leader.id)!;
    await cluster.settle(cluster.node(lost).stop());
    const error = await rejection(startJoining(cluster, lost));
    expect(error.code).toBe('DATA_LOST');
    expect(error.message).toContain('Remove it');
    expect(leader.status().counters.joinsRefused).toBe(1);
    await cluster.settle(leader.removeServer(lost));
    const back = await startJoining(cluster, lost);
    await cluster.settle(leader.addVoter(lost), 30_000);
    await cluster.runUntil(() => cluster!.machines.get(lost)!.total === 4);
    expect(back.status().configuration.voters).toContain(lost);
  });

  it('restarts with the configuration from storage', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    await cluster.settle(cluster.propose(leader, 'add:1'));
    const n4 = await startJoining(cluster, 'n4');
    await cluster.settle(leader.addVoter('n4'), 30_000);
    await cluster.runUntil(() => n4.status().configuration.voters.includes('n4'));
    await cluster.settle(n4.stop());
    const restarted = new RaftNode<number, 'total', number>({
      id: 'n4',
      storage: cluster.storages.get('n4')!,
      transport: cluster.network.transport(),
      stateMachine: new CounterMachine(),
      join: { contacts: ['n1'] },
      clock: cluster.clock,
      tickMs: 10,
    });
    cluster.nodes.set('n4', restarted);
    await cluster.settle(restarted.start());
    const expected: Partial<Configuration> = { voters: ['n1', 'n2', 'n3', 'n4'] };
    expect(restarted.status().configuration).toMatchObject(expected);
  });
});
