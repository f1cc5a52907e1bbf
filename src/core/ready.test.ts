// The Ready ordering contract (ready.ts): what must be durable before each message leaves.
import { describe, expect, it } from 'vitest';
import type { RaftMessage } from './messages.js';
import type { Ready } from './ready.js';
import {
  appendAccepted,
  appendEntries,
  command,
  drain,
  electLeader,
  makeCore,
  ofType,
  requestVote,
} from './raft-core.test-helpers.js';

const encoder = new TextEncoder();

/** Messages that carry a term this Ready has not made durable yet. */
function aheadOfDisk(ready: Ready, durableTerm: number): RaftMessage[] {
  return ready.messages.filter((message) => message.term > durableTerm);
}

describe('Ready: state is durable before the messages that depend on it', () => {
  it('a vote is sent only after the hard state recording it is persisted', () => {
    const voter = makeCore({ id: '1', term: 1 });
    voter.step(requestVote({ from: '2', to: '1', term: 2 }));
    const ready = voter.ready();
    expect(ready.hardState).toMatchObject({ term: 2, vote: '2' });
    expect(ofType(ready.messages, 'request-vote-response')).toEqual([]);
    expect(ofType(ready.messagesAfterPersist, 'request-vote-response')).toHaveLength(1);
  });

  it('a follower acknowledges entries only after persisting them', () => {
    const follower = makeCore({ id: '2', term: 1 });
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
    expect(ready.entries.map((entry) => entry.index)).toEqual([1]);
    expect(ofType(ready.messages, 'append-entries-response')).toEqual([]);
    expect(ofType(ready.messagesAfterPersist, 'append-entries-response')[0]).toMatchObject({
      success: true,
      matchIndex: 1,
    });
  });

  it('a candidate asks for votes only after persisting its new term and its own vote', () => {
    const candidate = makeCore({ id: '1', term: 3 });
    candidate.campaign();
    const ready = candidate.ready();
    expect(ready.hardState).toMatchObject({ term: 4, vote: '1' });
    expect(aheadOfDisk(ready, 3)).toEqual([]);
    expect(ofType(ready.messagesAfterPersist, 'request-vote')).toHaveLength(2);
  });

  it('an established leader sends its appends before its own write completes (thesis §10.2.1)', () => {
    const leader = makeCore({ id: '1' });
    electLeader(leader, ['2']);
    leader.step(appendAccepted({ from: '2', to: '1', term: 1, matchIndex: 1 }));
    leader.step(appendAccepted({ from: '3', to: '1', term: 1, matchIndex: 1 }));
    drain(leader);
    leader.propose([encoder.encode('x')]);
    const ready = leader.ready();
    // Term and vote are unchanged: the hard state only carries the commit index along.
    expect(ready.hardState).toMatchObject({ term: 1, vote: '1' });
    expect(ready.entries.map((entry) => entry.index)).toEqual([2]);
    expect(ofType(ready.messages, 'append-entries')).toHaveLength(2);
  });

  it('a single voter that elects itself at once does not send appends of a term it has not persisted', () => {
    // With learners, a lone voter wins without a round trip, so its first appends sit in the same
    // Ready as its new term. Were they sent first and the server crashed before the persist, it
    // would restart in the old term, win the same term again, and could give the learner a
    // different entry under an index and term the learner already holds.
    const lone = makeCore({ id: '1', voters: ['1'], learners: ['2'], term: 5 });
    lone.campaign();
    expect(lone.role).toBe('leader');
    const ready = lone.ready();
    expect(ready.hardState).toMatchObject({ term: 6, vote: '1' });
    expect(aheadOfDisk(ready, 5)).toEqual([]);
    expect(ofType(ready.messagesAfterPersist, 'append-entries')[0]).toMatchObject({
      to: '2',
      term: 6,
    });
  });
});
