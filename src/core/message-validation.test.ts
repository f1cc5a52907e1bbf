// A peer's message is input. Each test sends one malformed message and checks that the core drops
// it with INVALID_MESSAGE, changes nothing, and keeps working. Before validation, the first two
// reached RaftLog's invariants (meant for our own bugs) and stopped the node.
import { describe, expect, it } from 'vitest';
import { RaftError } from './errors.js';
import type { RaftMessage } from './messages.js';
import type { Entry } from './types.js';
import {
  appendAccepted,
  appendEntries,
  command,
  drain,
  electLeader,
  heartbeat,
  makeCore,
  requestVote,
  termsOf,
} from './raft-core.test-helpers.js';
import type { RaftCore } from './raft-core.js';
import type { CoreTraceEvent } from './trace-event.js';

function expectDropped(core: RaftCore, message: RaftMessage, reason: RegExp): void {
  const before = { status: core.status(), log: termsOf(core) };
  let thrown: unknown = null;
  try {
    core.step(message);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(RaftError);
  expect((thrown as RaftError).code).toBe('INVALID_MESSAGE');
  expect(String((thrown as RaftError).details.reason)).toMatch(reason);
  expect(termsOf(core)).toEqual(before.log);
  expect({ ...core.status(), progress: [] }).toEqual({ ...before.status, progress: [] });
}

/** An append from server 2 in term 2 after entry 2/1, unless `fields` say otherwise. */
function appendAfterTwo(
  entries: readonly Entry[],
  fields: { term?: number; prevLogTerm?: number } = {},
): RaftMessage {
  return appendEntries({
    from: '2',
    to: '1',
    term: 2,
    prevLogIndex: 2,
    prevLogTerm: 1,
    entries,
    ...fields,
  });
}

/** A follower in term 2 holding [1/1 2/1]. */
function follower(tracer?: (event: CoreTraceEvent) => void): RaftCore {
  return makeCore({
    id: '1',
    term: 2,
    log: [1, 1],
    options: tracer === undefined ? {} : { tracer },
  });
}

describe('append-entries that would break the log', () => {
  it('with a gap after prevLogIndex is dropped; the node keeps accepting good appends', () => {
    const core = follower();
    const gapped = appendAfterTwo([command(3, 2), command(5, 2)]);
    expectDropped(core, gapped, /expected 4, got 5/);

    core.step(appendAfterTwo([command(3, 2)]));
    drain(core);
    expect(termsOf(core)).toEqual([1, 1, 2]);
  });

  it('with an entry term above the message term is dropped', () => {
    const core = follower();
    const message = appendAfterTwo([command(3, 7)]);
    expectDropped(core, message, /term above the message term/);
  });

  it('with entry terms that decrease, or fall below prevLogTerm, is dropped', () => {
    const core = follower();
    const decreasing = appendAfterTwo([command(3, 3), command(4, 2)], { term: 3 });
    expectDropped(core, decreasing, /lower term/);
    const belowPrevious = appendAfterTwo([command(3, 1)], { term: 3, prevLogTerm: 2 });
    expectDropped(core, belowPrevious, /lower term/);
  });

  it('with indexes or terms that are not safe integers is dropped', () => {
    const core = follower();
    for (const prevLogIndex of [1.5, -1, Number.NaN, 2 ** 53]) {
      expectDropped(
        core,
        appendEntries({ from: '2', to: '1', term: 2, prevLogIndex, prevLogTerm: 1 }),
        /prevLogIndex/,
      );
    }
    expectDropped(
      core,
      { ...heartbeat({ from: '2', to: '1', term: 2 }), term: Number.POSITIVE_INFINITY },
      /not a valid term/,
    );
  });

  it('with a malformed entry (bytes that are not bytes, an unknown kind) is dropped', () => {
    const core = follower();
    const notBytes = { kind: 'command', index: 3, term: 2, data: 'text' } as unknown as ReturnType<
      typeof command
    >;
    const unknownKind = { kind: 'surprise', index: 3, term: 2 } as unknown as ReturnType<
      typeof command
    >;
    for (const [entry, reason] of [
      [notBytes, /not bytes/],
      [unknownKind, /unknown entry kind/],
    ] as const) {
      expectDropped(core, appendAfterTwo([entry]), reason);
    }
  });
});

describe('senders', () => {
  it('a stranger, or a message claiming to come from its receiver, is dropped and traced', () => {
    const events: CoreTraceEvent[] = [];
    const core = follower((event) => events.push(event));
    expectDropped(core, heartbeat({ from: '9', to: '1', term: 5 }), /not a member/);
    expectDropped(core, heartbeat({ from: '1', to: '1', term: 5 }), /its receiver/);
    expect(events.filter((event) => event.kind === 'invalid-message')).toHaveLength(2);
  });

  it('a server with no configuration yet accepts its first leader, whoever it is', () => {
    const core = makeCore({ id: '4', voters: [], learners: [] });
    core.step(heartbeat({ from: '1', to: '4', term: 3 }));
    expect(core.leaderId).toBe('1');
  });
});

describe('responses a leader must not trust blindly', () => {
  it('an acknowledgement of entries past the leader’s log is dropped; replication goes on', () => {
    const leader = makeCore({ id: '1', term: 1, log: [1] });
    electLeader(leader, ['2']);
    expectDropped(
      leader,
      appendAccepted({ from: '3', to: '1', term: 2, matchIndex: 50 }),
      /beyond the leader's last index/,
    );
    leader.step(appendAccepted({ from: '3', to: '1', term: 2, matchIndex: 2 }));
    drain(leader);
    expect(leader.status().commitIndex).toBe(2);
  });

  it('a vote request whose last log term exceeds its own term is dropped', () => {
    const core = follower();
    expectDropped(
      core,
      requestVote({ from: '2', to: '1', term: 3, lastLogIndex: 9, lastLogTerm: 4 }),
      /above the campaign term/,
    );
    expect(core.status().vote).toBeNull();
  });

  it('a read request with context 0 and a read answer below -1 are dropped', () => {
    const core = follower();
    expectDropped(
      core,
      { type: 'read-index', term: 2, from: '2', to: '1', context: 0 },
      /positive/,
    );
    expectDropped(
      core,
      { type: 'read-index-response', term: 2, from: '2', to: '1', context: 4, index: -2 },
      /read index/,
    );
  });

  it('a message of a type the protocol does not have is dropped', () => {
    const core = follower();
    expectDropped(
      core,
      { type: 'gossip', term: 2, from: '2', to: '1' } as unknown as RaftMessage,
      /unknown message type/,
    );
  });
});
