// A state machine refuses a command by returning rejectCommand(...): the refusal is the command's
// result on every server and nobody stops. Throwing keeps its meaning: the node stops.
import { afterEach, describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import { CommandRejection, rejectCommand } from './command-rejection.js';
import { CounterMachine, TestCluster } from './test-cluster.test-helpers.js';

/** A counter that never goes below zero, and that cannot apply `explode` at all. */
class NonNegativeCounter extends CounterMachine {
  readonly rejected: string[] = [];

  override apply(command: Uint8Array, context: { index: number }): number | CommandRejection {
    const text = new TextDecoder().decode(command);
    if (text === 'explode') throw new Error('cannot apply explode');
    const amount = Number(text.split(':')[1] ?? 0);
    if (this.total + amount < 0) {
      this.rejected.push(text);
      return rejectCommand('NEGATIVE_TOTAL', `total ${this.total} cannot drop by ${-amount}`);
    }
    return super.apply(command, context);
  }
}

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

async function startedCluster(extra: { forwardProposals?: boolean } = {}): Promise<TestCluster> {
  cluster = new TestCluster({ size: 3, extra: () => extra });
  for (const id of cluster.ids) await cluster.startNode(id, new NonNegativeCounter());
  await cluster.waitForLeader();
  const running = cluster;
  await running.runUntil(() => [...running.nodes.values()].every((node) => node.leaderId !== null));
  return running;
}

function failure(promise: Promise<unknown>): Promise<RaftError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(RaftError);
      return error as RaftError;
    },
  );
}

const machine = (running: TestCluster, id: string) =>
  running.machines.get(id) as NonNegativeCounter;

describe('a command the state machine rejects', () => {
  it('rejects the proposer with COMMAND_REJECTED and its reason; every server continues and agrees', async () => {
    const running = await startedCluster();
    const leader = running.leader()!;
    expect(await running.settle(running.propose(leader, 'add:5'))).toBe(5);

    const error = await running.settle(failure(running.propose(leader, 'add:-10')));
    expect(error.code).toBe('COMMAND_REJECTED');
    expect(error.message).toBe('total 5 cannot drop by 10');
    expect(error.details).toMatchObject({ reason: 'NEGATIVE_TOTAL', outcome: 'not-applied' });
    const rejectedIndex = (error as RaftError<'COMMAND_REJECTED'>).details.index ?? 0;
    expect(rejectedIndex).toBeGreaterThan(0);

    expect(await running.settle(running.propose(leader, 'add:3'))).toBe(8);
    await running.runUntil(() =>
      running.ids.every((id) => running.node(id).status().appliedIndex > rejectedIndex),
    );
    for (const id of running.ids) {
      expect(running.node(id).running).toBe(true);
      expect(machine(running, id).total).toBe(8);
      expect(machine(running, id).rejected).toEqual(['add:-10']);
    }
  });

  it('reaches a follower that forwarded the command, reason included', async () => {
    const running = await startedCluster({ forwardProposals: true });
    const follower = [...running.nodes.values()].find((node) => node.role !== 'leader')!;
    const error = await running.settle(failure(running.propose(follower, 'add:-1')));
    expect(error).toMatchObject({
      code: 'COMMAND_REJECTED',
      details: { reason: 'NEGATIVE_TOTAL' },
    });
    expect(error.message).toBe('total 0 cannot drop by 1');
    expect(await running.settle(running.propose(follower, 'add:2'))).toBe(2);
  });
});

describe('a command the state machine throws on', () => {
  it('still stops every server that applies it: its state may have diverged', async () => {
    const running = await startedCluster();
    const leader = running.leader()!;
    const error = await running.settle(failure(running.propose(leader, 'explode')));
    expect(error.code).toBe('APPLY_FAILED');
    await running.runUntil(() => running.ids.every((id) => !running.node(id).running));
  });
});

describe('rejectCommand', () => {
  it('needs a reason code; the message defaults to it', () => {
    expect(rejectCommand('FULL')).toMatchObject({ reason: 'FULL', message: 'FULL' });
    expect(() => rejectCommand('')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
