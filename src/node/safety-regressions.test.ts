// Safety holes found in review, each reproduced at the level a user sees: a RaftNode cluster on
// simulated time. Every test here failed before its fix.
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../transport/transport.js';
import { TestCluster } from './test-cluster.test-helpers.js';

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
  it('is dropped and counted; it used to trip an invariant and stop the receiving node', async () => {
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
