import { describe, expect, it } from 'vitest';
import { RaftError } from '../../core/errors.js';
import { formatTraceTable } from '../trace/format-trace-table.js';
import { forgetVoteStorage } from './injected-bugs.test-helpers.js';
import {
  KeyValueStateMachine,
  encodeKeyValueCommand,
  type KeyValueCommand,
} from './key-value-state-machine.js';
import {
  and,
  or,
  whenAnyLeader,
  whenCommitIndex,
  whenLeader,
  whenMessageSent,
} from './pause-triggers.js';
import { SimCluster } from './sim-cluster.js';

function keyValueCluster(
  seed: number,
  options: Partial<ConstructorParameters<typeof SimCluster>[0]> = {},
) {
  return new SimCluster({ seed, stateMachine: () => new KeyValueStateMachine(), ...options });
}

const put = (key: string, value: string): Uint8Array =>
  encodeKeyValueCommand({ kind: 'put', key, value } satisfies KeyValueCommand);

describe('SimCluster: pause triggers', () => {
  it('pauses when a node becomes leader, and when the commit index reaches N', async () => {
    const cluster = keyValueCluster(11);
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const leader = cluster.leader()!;
    await cluster.runUntil(whenLeader(leader.id));
    const follower = cluster.ids.find((id) => id !== leader.id)!;
    const writes = [1, 2, 3].map((n) => leader.propose(put('k', `v${n}`)));
    // The leader's no-op is entry 1, so three writes reach index 4.
    await cluster.runUntil(whenCommitIndex(follower, 4));
    expect(cluster.node(follower).status().commitIndex).toBeGreaterThanOrEqual(4);
    expect(await cluster.settle(Promise.all(writes))).toEqual([null, null, null]);
    expect(cluster.checkers.violations).toEqual([]);
  });

  it('pauses when a message of a kind is sent from A to B, with the message still in flight', async () => {
    const cluster = keyValueCluster(12);
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const leader = cluster.leader()!.id;
    const [a, b] = cluster.ids.filter((id) => id !== leader) as [string, string];
    cluster.holdMessages((message) => message.type === 'append-entries' && message.to === b);
    void cluster.node(leader).propose(put('x', '1'));
    await cluster.runUntil(whenMessageSent({ type: 'append-entries', from: leader, to: b }));
    expect(cluster.heldMessages().some((message) => message.to === b)).toBe(true);
    // a still gets everything: the entry commits with a and the leader alone.
    await cluster.runUntil(whenCommitIndex(a, 2));
    expect(cluster.node(b).status().lastIndex).toBeLessThan(2);
    cluster.holdMessages(null);
    expect(cluster.deliverHeld()).toBeGreaterThan(0);
    await cluster.runUntil(whenCommitIndex(b, 2));
  });

  it('combines triggers with and / or, and times out with the trigger named', async () => {
    const cluster = keyValueCluster(13);
    await cluster.start();
    await cluster.runUntil(or(whenLeader('n1'), whenLeader('n2'), whenLeader('n3')));
    const leader = cluster.leader()!.id;
    void cluster.node(leader).propose(put('y', '1'));
    await cluster.runUntil(
      and(whenMessageSent({ type: 'append-entries', from: leader }), whenCommitIndex(leader, 2)),
    );
    const other = cluster.ids.find((id) => id !== leader)!;
    const error = await cluster.runUntil(whenLeader(other), { timeMsMax: 300 }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RaftError);
    expect((error as RaftError).code).toBe('TIMEOUT');
    expect((error as RaftError).message).toContain(`${other} is leader`);
  });
});

describe('SimCluster: faults', () => {
  it('elects a new leader after the leader crashes, and the old one rejoins from its disk', async () => {
    const cluster = keyValueCluster(21);
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const first = cluster.leader()!;
    await cluster.settle(first.propose(put('a', '1')));
    cluster.crash(first.id);
    await cluster.runUntil(() => cluster.leader() !== null && cluster.leader()!.id !== first.id, {
      timeMsMax: 2000,
    });
    const restarted = cluster.restart(first.id);
    await cluster.runUntil(() => restarted.running && restarted.status().appliedIndex >= 2);
    const machine = cluster.stateMachine(first.id) as KeyValueStateMachine;
    expect(machine.entries().get('a')).toBe('1');
    expect(cluster.faults.get('crash')).toBe(1);
    expect(cluster.checkers.violations).toEqual([]);
  });

  it('keeps a minority partition from committing, then heals', async () => {
    const cluster = keyValueCluster(22);
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const leader = cluster.leader()!;
    cluster.isolate(leader.id);
    const stranded = leader.propose(put('lost', '1')).then(
      () => 'committed',
      (error: RaftError) => error.code,
    );
    await cluster.runUntil(() => {
      const other = cluster.leader();
      return other !== null && other.id !== leader.id;
    });
    expect(await cluster.settle(stranded)).not.toBe('committed');
    cluster.healPartitions();
    await cluster.runUntil(() =>
      cluster.ids.every((id) => cluster.node(id).leaderId === cluster.leader()?.id),
    );
    expect(cluster.checkers.violations).toEqual([]);
  });

  it('stops a node whose write fails, and restarts it on what its disk kept', async () => {
    const cluster = keyValueCluster(23);
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const leader = cluster.leader()!;
    cluster.failNextWrite(leader.id);
    const outcome = await cluster.settle(
      leader.propose(put('f', '1')).then(String, (error: RaftError) => error.code),
    );
    expect(['STORAGE_FAILED', 'OUTCOME_UNKNOWN']).toContain(outcome);
    expect(cluster.hasLiveProcess(leader.id)).toBe(false);
    cluster.restart(leader.id);
    await cluster.runUntil(() => cluster.isUp(leader.id));
    await cluster.runUntil(whenAnyLeader());
    expect(cluster.checkers.violations).toEqual([]);
  });

  it('loses only unsynced writes in a crash, or keeps a torn prefix of them', async () => {
    const cluster = keyValueCluster(24, { disk: { syncDelayMsMin: 50, syncDelayMsMax: 50 } });
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const leader = cluster.leader()!;
    void leader.propose(put('t', '1'));
    await cluster.runUntil(() => cluster.log(leader.id).lastIndex >= 2);
    cluster.crash(leader.id, { pendingStepsKept: 1 });
    expect(cluster.faults.get('torn-tail-crash')).toBe(1);
    cluster.restart(leader.id);
    await cluster.runUntil(() => cluster.isUp(leader.id));
    expect(cluster.checkers.violations).toEqual([]);
  });
});

describe('SimCluster: checkers', () => {
  it('catches a double vote after a restart that forgot the vote (a scripted scenario)', async () => {
    const cluster = keyValueCluster(3, {
      settings: { preVote: false, checkQuorum: false },
      wrapStorage: forgetVoteStorage,
      inFlightSurvivesCrash: true,
    });
    await cluster.start();
    await cluster.runUntil(whenAnyLeader());
    const voter = cluster.leader()!.id;
    const [a, b] = cluster.ids.filter((id) => id !== voter) as [string, string];
    // Silence the leader so both followers campaign in the same term, their requests held back.
    cluster.holdMessages((message) =>
      ['request-vote', 'request-vote-response', 'heartbeat', 'append-entries'].includes(
        message.type,
      ),
    );
    await cluster.runUntil(
      and(
        whenMessageSent({ type: 'request-vote', from: a, to: voter }),
        whenMessageSent({ type: 'request-vote', from: b, to: voter }),
      ),
    );
    cluster.deliverHeld(
      (message) => message.type === 'request-vote' && message.from === a && message.to === voter,
    );
    await cluster.runUntil(whenMessageSent({ type: 'request-vote-response', from: voter, to: a }));
    cluster.crash(voter);
    cluster.restart(voter);
    await cluster.runFor(1);
    cluster.deliverHeld(
      (message) => message.type === 'request-vote' && message.from === b && message.to === voter,
    );
    await cluster.runUntil(whenMessageSent({ type: 'request-vote-response', from: voter, to: b }));
    cluster.holdMessages(null);
    cluster.deliverHeld((message) => message.type === 'request-vote-response');
    await cluster.runFor(50);
    const properties = cluster.checkers.violations.map((violation) => violation.property);
    expect(properties).toContain('election-safety');
    expect(cluster.checkers.violations.map((violation) => violation.message).join('\n')).toMatch(
      /two leaders in term|voted twice in term/,
    );
    // The trace explains it: both vote grants from the voter in one term.
    const table = formatTraceTable(cluster.tracer!.rows());
    expect(table).toContain(`${voter} -> ${a}: request-vote-response`);
    expect(table).toContain(`${voter} -> ${b}: request-vote-response`);
  });
});
