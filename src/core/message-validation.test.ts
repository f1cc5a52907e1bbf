// A peer's message is input. Each test sends one malformed message and checks that the core drops
// it with INVALID_MESSAGE, changes nothing, and keeps working. Before validation, the first two
// reached RaftLog's invariants (meant for our own bugs) and stopped the node.
import { describe, expect, it } from 'vitest';
import { RaftError } from './errors.js';
import type { InstallSnapshot, RaftMessage } from './messages.js';
import { configurationOf, type Entry } from './types.js';
import {
  appendAccepted,
  appendEntries,
  command,
  drain,
  electLeader,
  heartbeat,
  makeCore,
  plainRaft,
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
  expect((thrown as RaftError<'INVALID_MESSAGE'>).details.reason).toMatch(reason);
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
  it('a stranger’s order to campaign, or a message claiming to come from its receiver, is dropped and traced', () => {
    const events: CoreTraceEvent[] = [];
    const core = follower((event) => events.push(event));
    expectDropped(core, { type: 'timeout-now', from: '9', to: '1', term: 5 }, /not a member/);
    expectDropped(core, heartbeat({ from: '1', to: '1', term: 5 }), /its receiver/);
    expect(events.filter((event) => event.kind === 'invalid-message')).toHaveLength(2);
  });

  it('a stranger whose log is behind is ignored: it neither raises the term nor gets an answer', () => {
    const events: CoreTraceEvent[] = [];
    const core = follower((event) => events.push(event));
    for (const preVote of [false, true]) {
      core.step(
        requestVote({ from: '9', to: '1', term: 5, lastLogIndex: 1, lastLogTerm: 1, preVote }),
      );
      expect(core.status().term).toBe(2);
      expect(drain(core).filter((message) => message.type === 'request-vote-response')).toEqual([]);
    }
    expect(events.filter((event) => event.kind === 'ignored')).toHaveLength(2);
  });

  it('a candidate added in a configuration this server has not received gets its vote', () => {
    // Server 1 lagged while the cluster moved to members it does not know; the quorum of the new
    // configuration may need its vote, and the candidate's log is ahead of its own.
    const core = follower();
    core.step(requestVote({ from: '9', to: '1', term: 5, lastLogIndex: 7, lastLogTerm: 4 }));
    expect(core.status().term).toBe(5);
    expect(core.status().vote).toBe('9');
    expect(drain(core)).toContainEqual(
      expect.objectContaining({ type: 'request-vote-response', to: '9', granted: true }),
    );
  });

  it('a leader added in a configuration this server has not received yet is followed', () => {
    // Server 1 was down while 9 joined and took over; its log still names only the old members.
    const core = follower();
    core.step(heartbeat({ from: '9', to: '1', term: 5 }));
    expect(core.leaderId).toBe('9');
    expect(core.status().term).toBe(5);
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

describe('install-snapshot chunks that cannot be part of a snapshot', () => {
  const configuration = configurationOf(['1', '2', '3']);

  /** Bytes 4..8 of an 8-byte snapshot at 5/2 sent by leader 2 in term 2, unless `fields` differ. */
  function chunk(fields: Partial<Record<keyof InstallSnapshot, unknown>> = {}): RaftMessage {
    return {
      type: 'install-snapshot',
      from: '2',
      to: '1',
      term: 2,
      snapshot: { index: 5, term: 2, configuration, settings: plainRaft },
      offset: 4,
      data: new Uint8Array(4),
      totalBytes: 8,
      checksum: 0x1234,
      done: true,
      ...fields,
    } as RaftMessage;
  }

  function snapshotMessagesOf(core: RaftCore): number {
    const ready = core.ready();
    core.advance(ready);
    return ready.snapshotMessages.length;
  }

  it('a good chunk reaches the runtime: the baseline the bad ones differ from', () => {
    const core = follower();
    core.step(chunk());
    expect(snapshotMessagesOf(core)).toBe(1);
  });

  it('offsets and sizes that do not describe a place in the snapshot are dropped', () => {
    const core = follower();
    const cases: [Partial<Record<keyof InstallSnapshot, unknown>>, RegExp][] = [
      [{ offset: -4 }, /offset/],
      [{ offset: 4.5 }, /offset/],
      [{ offset: 6 }, /ends past the snapshot size/],
      [{ totalBytes: 6 }, /ends past the snapshot size/],
      [{ totalBytes: 2 ** 53 }, /totalBytes/],
      [{ offset: 0, data: new Uint8Array(0), done: false }, /empty chunk before the end/],
      [{ done: false }, /done is false for a chunk ending at 8 of 8/],
      [{ offset: 0, done: true }, /done is true for a chunk ending at 4 of 8/],
      [{ data: [1, 2, 3, 4] }, /not bytes/],
    ];
    for (const [fields, reason] of cases) expectDropped(core, chunk(fields), reason);
    expect(snapshotMessagesOf(core)).toBe(0);
  });

  it('snapshot indexes and terms a leader cannot hold are dropped', () => {
    const core = follower();
    const at = (index: unknown, term: unknown) =>
      chunk({ snapshot: { index, term, configuration, settings: plainRaft } });
    expectDropped(core, at(0, 0), /index 0/);
    expectDropped(core, at(5, 0), /term 0/);
    expectDropped(core, at(-1, 1), /index/);
    expectDropped(core, at(5, 3), /snapshot term is above the message term/);
    expectDropped(core, chunk({ snapshot: null }), /marker is missing/);
    const noVoters = configurationOf([]);
    expectDropped(
      core,
      chunk({ snapshot: { index: 5, term: 2, configuration: noVoters, settings: plainRaft } }),
      /no voters/,
    );
    expect(snapshotMessagesOf(core)).toBe(0);
  });

  it('a checksum that is not a CRC-32C value is dropped', () => {
    const core = follower();
    expectDropped(core, chunk({ checksum: 2 ** 32 }), /32-bit/);
    expectDropped(core, chunk({ checksum: -1 }), /checksum/);
  });

  it('an acknowledgement of a snapshot past the leader’s log is dropped', () => {
    const leader = makeCore({ id: '1', term: 1, log: [1] });
    electLeader(leader, ['2']);
    const response = (snapshotIndex: number, bytesReceived = 0) =>
      ({
        type: 'install-snapshot-response',
        term: 2,
        from: '3',
        to: '1',
        snapshotIndex,
        bytesReceived,
        success: true,
      }) as const;
    expectDropped(leader, response(40), /beyond the leader's last index/);
    expectDropped(leader, response(0), /index 0/);
    expectDropped(leader, response(1, -8), /bytesReceived/);
    leader.step(response(1, 8));
  });
});
