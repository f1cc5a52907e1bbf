// Mistakes Raft implementations are known to make, one block each, and what must hold instead:
// votes from older terms, the up-to-date rule, votes across restarts, committing entries of
// earlier terms (Figure 8), trusting a rejecting follower's length, quorums of even-sized
// clusters, truncating only the conflicting suffix, and a learner that outlives its leader's term.
import { describe, expect, it } from 'vitest';
import { CoreCluster } from '../testing/script/core-cluster.js';
import {
  appendAccepted,
  appendEntries,
  appendRejected,
  command,
  drain,
  electLeader,
  heartbeat,
  makeCore,
  ofType,
  plainRaft,
  requestVote,
  termsOf,
} from './raft-core.test-helpers.js';
import { RaftCore } from './raft-core.js';
import { bootstrapSnapshot, configurationOf } from './types.js';

const encoder = new TextEncoder();

/** Elects server 1 of a fresh cluster and settles it. */
function clusterLedBy1(voters: number, settings = plainRaft): CoreCluster {
  const cluster = new CoreCluster({ voters, settings });
  cluster.core('1').campaign();
  cluster.stabilize();
  expect(cluster.core('1').role).toBe('leader');
  return cluster;
}

describe('a vote request from an older term', () => {
  it('is rejected and leaves the vote of the current term free', () => {
    const voter = makeCore({ id: '1', term: 5, log: [1, 2] });
    voter.step(requestVote({ from: '2', to: '1', term: 4, lastLogIndex: 9, lastLogTerm: 4 }));
    const [answer] = ofType(drain(voter), 'request-vote-response');
    expect(answer).toMatchObject({ to: '2', granted: false, term: 5 });
    expect(voter.status()).toMatchObject({ term: 5, vote: null });

    // The vote of term 5 is still there for a candidate of term 5.
    voter.step(requestVote({ from: '3', to: '1', term: 5, lastLogIndex: 2, lastLogTerm: 2 }));
    expect(ofType(drain(voter), 'request-vote-response')[0]).toMatchObject({
      to: '3',
      granted: true,
    });
    expect(voter.status().vote).toBe('3');
  });

  it('a delayed request arriving after the vote was cast does not change it', () => {
    const voter = makeCore({ id: '1', term: 5, vote: '3' });
    voter.step(requestVote({ from: '2', to: '1', term: 3 }));
    expect(ofType(drain(voter), 'request-vote-response')[0]?.granted).toBe(false);
    expect(voter.status().vote).toBe('3');
  });
});

describe('the up-to-date rule', () => {
  it('compares the last term first: a longer log with an older last term loses to a shorter one with a newer term', () => {
    // The voter's log ends 2/3; the candidate's is longer (5 entries) but ends in term 2.
    const voter = makeCore({ id: '1', term: 3, log: [1, 3] });
    voter.step(requestVote({ from: '2', to: '1', term: 4, lastLogIndex: 5, lastLogTerm: 2 }));
    expect(ofType(drain(voter), 'request-vote-response')[0]?.granted).toBe(false);
    expect(voter.status().vote).toBeNull();
  });

  it('a shorter log with a newer last term wins over a longer one', () => {
    const voter = makeCore({ id: '1', term: 2, log: [1, 1, 2, 2, 2] });
    voter.step(requestVote({ from: '2', to: '1', term: 4, lastLogIndex: 2, lastLogTerm: 3 }));
    expect(ofType(drain(voter), 'request-vote-response')[0]?.granted).toBe(true);
  });

  it('with equal last terms, the index decides: shorter loses, equal or longer wins', () => {
    const shorter = makeCore({ id: '1', term: 2, log: [1, 2, 2] });
    shorter.step(requestVote({ from: '2', to: '1', term: 3, lastLogIndex: 2, lastLogTerm: 2 }));
    expect(ofType(drain(shorter), 'request-vote-response')[0]?.granted).toBe(false);

    const equal = makeCore({ id: '1', term: 2, log: [1, 2, 2] });
    equal.step(requestVote({ from: '2', to: '1', term: 3, lastLogIndex: 3, lastLogTerm: 2 }));
    expect(ofType(drain(equal), 'request-vote-response')[0]?.granted).toBe(true);
  });

  it('a candidate with an empty log loses to any voter holding entries', () => {
    const voter = makeCore({ id: '1', term: 1, log: [1] });
    voter.step(requestVote({ from: '2', to: '1', term: 2, lastLogIndex: 0, lastLogTerm: 0 }));
    expect(ofType(drain(voter), 'request-vote-response')[0]?.granted).toBe(false);
  });
});

describe('a vote survives a restart', () => {
  it('a restarted server refuses a second candidate in the term it voted in', () => {
    const cluster = new CoreCluster({ voters: 3, settings: plainRaft });
    cluster.core('1').campaign();
    cluster.processReady('1');
    cluster.deliver({ to: '2' });
    cluster.processReady('2');
    expect(cluster.core('2').status()).toMatchObject({ term: 1, vote: '1' });

    cluster.restart('2');
    expect(cluster.core('2').status()).toMatchObject({ term: 1, vote: '1' });
    cluster.dropMessages({});

    // Server 3 campaigns in the same term 1.
    cluster.core('3').campaign();
    cluster.processReady('3');
    expect(cluster.core('3').term).toBe(1);
    cluster.deliver({ to: '2' });
    cluster.processReady('2');
    const answers = ofType(cluster.mailbox, 'request-vote-response').filter(
      (message) => message.from === '2',
    );
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ to: '3', term: 1, granted: false });
    expect(cluster.core('2').status().vote).toBe('1');
  });

  it('a candidate that follows a leader of its term keeps its vote', () => {
    const candidate = makeCore({ id: '2', term: 4 });
    candidate.campaign();
    drain(candidate);
    expect(candidate.status()).toMatchObject({ role: 'candidate', term: 5, vote: '2' });

    candidate.step(appendEntries({ from: '3', to: '2', term: 5, prevLogIndex: 0, prevLogTerm: 0 }));
    expect(candidate.status()).toMatchObject({ role: 'follower', term: 5, vote: '2' });

    candidate.step(requestVote({ from: '1', to: '2', term: 5 }));
    expect(ofType(drain(candidate), 'request-vote-response')[0]?.granted).toBe(false);
  });

  it('a vote cast in a term already on disk is persisted too, and survives a restart', () => {
    const cluster = new CoreCluster({ voters: 3, settings: plainRaft });
    // Server 2 learns of term 1 (and persists it) before any vote is cast in it.
    cluster.core('2').step(heartbeat({ from: '3', to: '2', term: 1 }));
    cluster.processReady('2');
    cluster.dropMessages({});
    // After a restart it knows the term but no leader, so its vote in term 1 is free.
    cluster.restart('2');
    expect(cluster.core('2').status()).toMatchObject({ term: 1, vote: null, leaderId: null });
    cluster.core('2').step(requestVote({ from: '1', to: '2', term: 1 }));
    cluster.processReady('2');
    expect(cluster.server('2').disk.hardState).toMatchObject({ term: 1, vote: '1' });

    cluster.restart('2');
    cluster.dropMessages({});
    cluster.core('2').step(requestVote({ from: '3', to: '2', term: 1 }));
    cluster.processReady('2');
    const answers = ofType(cluster.mailbox, 'request-vote-response');
    expect(answers.map((answer) => `${answer.to}:${answer.granted}`)).toEqual(['3:false']);
  });

  it('the vote is in the hard state handed out before the grant is sent', () => {
    const voter = makeCore({ id: '1', term: 1 });
    voter.step(requestVote({ from: '2', to: '1', term: 2 }));
    const ready = voter.ready();
    expect(ready.hardState).toEqual({ term: 2, vote: '2', commit: 0 });
    // The grant waits for the persist: it is not among the messages sent before it.
    expect(ofType(ready.messages, 'request-vote-response')).toEqual([]);
    expect(ofType(ready.messagesAfterPersist, 'request-vote-response')[0]?.granted).toBe(true);
  });
});

describe('entries of earlier terms (Figure 8)', () => {
  it('are not committed by counting replicas: the commit index moves only once an entry of the leader’s term is on a majority', () => {
    // Server 1 restarts holding 1/1 (committed) and 2/1 (not), wins term 3 and appends 3/3.
    const leader = makeCore({ id: '1', term: 2, log: [1, 1], commit: 1 });
    electLeader(leader, ['2']);
    expect(leader.status()).toMatchObject({ term: 3, lastIndex: 3, commitIndex: 1 });

    // Server 2 now holds index 2 of term 1: with the leader, a majority of three.
    leader.step(appendAccepted({ from: '2', to: '1', term: 3, matchIndex: 2 }));
    drain(leader);
    expect(leader.status().commitIndex).toBe(1);

    // Once 3/3 is on a majority, it commits, and 2/1 with it (indirectly).
    leader.step(appendAccepted({ from: '2', to: '1', term: 3, matchIndex: 3 }));
    drain(leader);
    expect(leader.status().commitIndex).toBe(3);
  });

  it('every follower of the old term holding the entry is still not enough', () => {
    const leader = makeCore({ id: '1', voters: ['1', '2', '3', '4', '5'], term: 2, log: [1, 1] });
    electLeader(leader, ['2', '3']);
    for (const from of ['2', '3', '4', '5']) {
      leader.step(appendAccepted({ from, to: '1', term: 3, matchIndex: 2 }));
    }
    drain(leader);
    expect(leader.status().commitIndex).toBe(0);
  });
});

describe('a follower’s reported position after a mismatch', () => {
  it('never raises the leader’s match index, whatever length a rejecting follower reports', () => {
    const leader = makeCore({ id: '1', term: 1, log: [1, 1, 1, 1, 1] });
    electLeader(leader, ['2']);
    const before = leader.status().progress.find((peer) => peer.id === '3')!;
    expect(before).toMatchObject({ match: 0, next: 6 });

    // Server 3 rejects the probe at prev index 5 but claims to hold 100 entries.
    leader.step(
      appendRejected({
        from: '3',
        to: '1',
        term: 2,
        rejectedIndex: 5,
        hintIndex: 100,
        hintTerm: 2,
        matchIndex: 100,
      }),
    );
    const probes = ofType(drain(leader), 'append-entries').filter((message) => message.to === '3');
    const after = leader.status().progress.find((peer) => peer.id === '3')!;
    expect(after.match).toBe(0);
    expect(after.next).toBeLessThanOrEqual(5);
    // The next probe starts below the rejected position.
    expect(probes[0]?.prevLogIndex).toBeLessThan(5);
    expect(leader.status().commitIndex).toBe(0);
  });

  it('a rejection in replicate state falls back to probing from match + 1, keeping match', () => {
    const leader = makeCore({ id: '1', term: 1, log: [1, 1] });
    electLeader(leader, ['2']);
    leader.step(appendAccepted({ from: '2', to: '1', term: 2, matchIndex: 3 }));
    leader.propose([encoder.encode('a')]);
    leader.propose([encoder.encode('b')]);
    drain(leader);

    // A stale rejection, at or below match, changes nothing.
    leader.step(
      appendRejected({ from: '2', to: '1', term: 2, rejectedIndex: 3, hintIndex: 3, hintTerm: 2 }),
    );
    expect(leader.status().progress.find((peer) => peer.id === '2')).toMatchObject({
      match: 3,
      next: 6,
      state: 'replicate',
    });

    // A rejection above match restarts probing right after what is known to match.
    leader.step(
      appendRejected({
        from: '2',
        to: '1',
        term: 2,
        rejectedIndex: 4,
        hintIndex: 9,
        hintTerm: 2,
        matchIndex: 9,
      }),
    );
    expect(leader.status().progress.find((peer) => peer.id === '2')).toMatchObject({
      match: 3,
      next: 4,
      state: 'probe',
    });
  });
});

describe('even-sized clusters', () => {
  it('with 4 servers, 2 acknowledgements (exactly half) do not commit', () => {
    const cluster = clusterLedBy1(4);
    const committedBefore = cluster.core('1').status().commitIndex;
    cluster.partition(['1', '2'], ['3', '4']);
    cluster.core('1').propose([encoder.encode('half')]);
    cluster.stabilize();
    expect(cluster.core('2').status().lastIndex).toBe(committedBefore + 1);
    expect(cluster.core('1').status().commitIndex).toBe(committedBefore);

    // A third copy makes a majority of four.
    cluster.heal();
    cluster.partition(['1', '2', '3'], ['4']);
    cluster.tick('1', cluster.heartbeatTicks);
    cluster.stabilize();
    expect(cluster.core('1').status().commitIndex).toBe(committedBefore + 1);
  });

  it('under CheckQuorum a leader hearing from only 1 other of 4 (exactly half) steps down', () => {
    const cluster = clusterLedBy1(4, { preVote: false, checkQuorum: true });
    cluster.partition(['1', '2'], ['3', '4']);
    for (let tick = 0; tick < cluster.electionTicks * 2; tick++) {
      cluster.tick('1', 1);
      cluster.stabilize();
    }
    expect(cluster.core('1').role).toBe('follower');
  });

  it('a leader hearing from 2 others of 4 (3 of 4 with itself) keeps leading under CheckQuorum', () => {
    const cluster = clusterLedBy1(4, { preVote: false, checkQuorum: true });
    cluster.partition(['1', '2', '3'], ['4']);
    for (let tick = 0; tick < cluster.electionTicks * 3; tick++) {
      cluster.tick('1', 1);
      cluster.stabilize();
    }
    expect(cluster.core('1').role).toBe('leader');
  });

  it('a candidate with 2 votes of 4 (its own and one more) does not win', () => {
    const candidate = makeCore({ id: '1', voters: ['1', '2', '3', '4'] });
    candidate.campaign();
    drain(candidate);
    candidate.step({
      type: 'request-vote-response',
      term: 1,
      from: '2',
      to: '1',
      preVote: false,
      granted: true,
    });
    expect(candidate.role).toBe('candidate');
    candidate.step({
      type: 'request-vote-response',
      term: 1,
      from: '3',
      to: '1',
      preVote: false,
      granted: true,
    });
    expect(candidate.role).toBe('leader');
  });
});

describe('a conflict truncates only the conflicting suffix', () => {
  it('an append from index 0 whose second entry conflicts keeps the matching first one', () => {
    const follower = makeCore({ id: '2', term: 1, log: [1, 1, 1] });
    follower.step(
      appendEntries({
        from: '1',
        to: '2',
        term: 2,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [command(1, 1), command(2, 2, 'new')],
      }),
    );
    const ready = follower.ready();
    follower.advance(ready);
    expect(termsOf(follower)).toEqual([1, 2]);
    expect(follower.entry(1)).toEqual(command(1, 1));
    // Only the replaced suffix goes to disk again.
    expect(ready.entries.map((entry) => entry.index)).toEqual([2]);
  });

  it('an append after index 0 whose entries all match removes nothing', () => {
    const follower = makeCore({ id: '2', term: 1, log: [1, 1, 1] });
    follower.step(
      appendEntries({
        from: '1',
        to: '2',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [command(1, 1)],
      }),
    );
    const ready = follower.ready();
    expect(ready.entries).toEqual([]);
    expect(termsOf(follower)).toEqual([1, 1, 1]);
  });

  it('an empty append after index 0 (a probe) removes nothing', () => {
    const follower = makeCore({ id: '2', term: 1, log: [1, 1, 1] });
    follower.step(appendEntries({ from: '1', to: '2', term: 2, prevLogIndex: 0, prevLogTerm: 0 }));
    drain(follower);
    expect(termsOf(follower)).toEqual([1, 1, 1]);
  });

  it('a conflict at index 1 replaces from index 1, because that entry itself conflicts', () => {
    const follower = makeCore({ id: '2', term: 1, log: [1, 1] });
    follower.step(
      appendEntries({
        from: '1',
        to: '2',
        term: 2,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [command(1, 2)],
      }),
    );
    drain(follower);
    expect(termsOf(follower)).toEqual([2]);
  });

  it('a conflict in the middle keeps the prefix up to it', () => {
    const follower = makeCore({ id: '2', term: 3, log: [1, 1, 2, 3, 3] });
    follower.step(
      appendEntries({
        from: '1',
        to: '2',
        term: 4,
        prevLogIndex: 3,
        prevLogTerm: 2,
        entries: [command(4, 4)],
      }),
    );
    drain(follower);
    expect(termsOf(follower)).toEqual([1, 1, 2, 4]);
  });
});

describe('restart after a crash kept entries but lost the hard state that came with them', () => {
  it('resumes in at least the term of its last entry, with no vote in it', () => {
    const core = new RaftCore(
      { id: '1', random: () => 0 },
      {
        hardState: { term: 2, vote: '2', commit: 0 },
        snapshot: bootstrapSnapshot(configurationOf(['1', '2', '3'])),
        entries: [
          { kind: 'noop', index: 1, term: 2 },
          { kind: 'noop', index: 2, term: 4 },
        ],
      },
    );
    expect(core.status()).toMatchObject({ term: 4, vote: null });
  });
});

describe('a learner whose term a candidate raised', () => {
  // Without PreVote and CheckQuorum a server ahead of its leader's term ignores the leader, and
  // its own campaign is what tells the leader; a learner never campaigns, so it must answer.
  function learnerAtTerm9(): RaftCore {
    const learner = makeCore({ id: '4', learners: ['4'], term: 2, settings: plainRaft });
    learner.step(requestVote({ from: '2', to: '4', term: 9, lastLogIndex: 0, lastLogTerm: 0 }));
    drain(learner);
    return learner;
  }

  it('answers its leader of the older term with its own, so the leader steps down', () => {
    const learner = learnerAtTerm9();
    learner.step(heartbeat({ from: '1', to: '4', term: 2 }));
    expect(ofType(drain(learner), 'append-entries-response')).toEqual([
      expect.objectContaining({ to: '1', term: 9, success: false }),
    ]);
  });

  it('while a voter in the same place leaves that to its own campaign', () => {
    const voter = makeCore({ id: '3', term: 2, settings: plainRaft });
    voter.step(requestVote({ from: '2', to: '3', term: 9, lastLogIndex: 0, lastLogTerm: 0 }));
    drain(voter);
    voter.step(heartbeat({ from: '1', to: '3', term: 2 }));
    expect(ofType(drain(voter), 'append-entries-response')).toEqual([]);
  });
});
