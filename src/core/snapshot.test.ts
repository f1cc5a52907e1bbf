import { describe, expect, it } from 'vitest';
import type { InstallSnapshot } from './messages.js';
import {
  appendAccepted,
  drain,
  electLeader,
  makeCore,
  ofType,
  plainRaft,
} from './raft-core.test-helpers.js';
import { configurationOf, type SnapshotMeta } from './types.js';

function chunk(fields: {
  to: string;
  term: number;
  snapshot: SnapshotMeta;
  offset?: number;
}): InstallSnapshot {
  return {
    type: 'install-snapshot',
    from: '1',
    data: new Uint8Array(4),
    totalBytes: 8,
    checksum: 1,
    done: false,
    offset: 0,
    ...fields,
  };
}

const configuration = configurationOf(['1', '2', '3']);

function meta(index: number, term: number): SnapshotMeta {
  return { index, term, configuration, settings: plainRaft };
}

/**
 * A leader of term 2 whose log [1/1 2/1 3/2 4/2] is committed and applied with the help of server
 * 2; server 3 has not answered yet.
 */
function committedLeader() {
  const core = makeCore({ term: 1, log: [1, 1] });
  electLeader(core, ['2']);
  core.step(appendAccepted({ from: '2', to: '1', term: core.term, matchIndex: 3 }));
  core.propose([new Uint8Array(1)]);
  core.step(appendAccepted({ from: '2', to: '1', term: core.term, matchIndex: 4 }));
  core.advance(core.ready());
  drain(core);
  return core;
}

describe('§7 log compaction', () => {
  it('compacts only applied, durable entries and keeps the ones after the marker', () => {
    const core = committedLeader();
    expect(core.status().commitIndex).toBe(4);
    core.compact(2);
    expect(core.status().snapshotIndex).toBe(2);
    expect(core.entry(2)).toBeUndefined();
    expect(core.entry(3)?.term).toBe(2);
    expect(() => core.compact(9)).toThrow(/applied/);
  });

  it('records the term and the configuration in force at the snapshot index', () => {
    const core = committedLeader();
    expect(core.snapshotMeta(2)).toMatchObject({ index: 2, term: 1, configuration });
    expect(() => core.snapshotMeta(5)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('sends a snapshot to a follower whose next entry was compacted, and no appends meanwhile', () => {
    const core = committedLeader();
    core.snapshotAvailable(core.snapshotMeta(4));
    core.compact(4);
    core.step({ type: 'heartbeat-response', term: core.term, from: '3', to: '1', context: 0 });
    core.propose([new Uint8Array(1)]);
    const ready = core.ready();
    core.advance(ready);
    expect(ready.snapshotTransfers).toEqual([{ to: '3', snapshot: core.snapshotMeta(4) }]);
    expect(core.isSendingSnapshot('3', 4)).toBe(true);
    expect(ofType([...ready.messages], 'append-entries').map((message) => message.to)).toEqual([
      '2',
    ]);
  });

  it('probes again when the runtime reports the transfer failed, and starts a new one', () => {
    const core = committedLeader();
    core.snapshotAvailable(core.snapshotMeta(4));
    core.compact(4);
    core.step({ type: 'heartbeat-response', term: core.term, from: '3', to: '1', context: 0 });
    drain(core);
    core.reportSnapshotFailed('3', 4);
    expect(core.isSendingSnapshot('3', 4)).toBe(false);
    expect(core.status().progress.find((peer) => peer.id === '3')?.state).toBe('probe');
    core.step({ type: 'heartbeat-response', term: core.term, from: '3', to: '1', context: 0 });
    expect(core.ready().snapshotTransfers.map((transfer) => transfer.to)).toEqual(['3']);
  });

  it('waits instead of sending when it holds no snapshot data (the trace says why)', () => {
    const events: string[] = [];
    const core = makeCore({
      term: 1,
      log: [1, 1],
      options: { tracer: (event) => event.kind === 'snapshot' && events.push(event.event) },
    });
    electLeader(core, ['2']);
    core.step(appendAccepted({ from: '2', to: '1', term: core.term, matchIndex: 3 }));
    core.advance(core.ready());
    core.compact(3);
    core.step({ type: 'heartbeat-response', term: core.term, from: '3', to: '1', context: 0 });
    expect(core.ready().snapshotTransfers).toEqual([]);
    expect(events).toContain('unavailable');
  });
});

describe('§7 InstallSnapshot on the follower', () => {
  it('hands a chunk of a snapshot beyond its log to the runtime', () => {
    const core = makeCore({ id: '2', term: 1, log: [1] });
    core.step(chunk({ to: '2', term: 1, snapshot: meta(5, 1) }));
    const ready = core.ready();
    expect(ready.snapshotMessages).toHaveLength(1);
    expect(core.leaderId).toBe('1');
  });

  it('answers from its log when it already holds the snapshot last entry: no data moves', () => {
    const core = makeCore({ id: '2', term: 2, log: [1, 1, 2] });
    core.step(chunk({ to: '2', term: 2, snapshot: meta(3, 2) }));
    const ready = core.ready();
    expect(ready.snapshotMessages).toEqual([]);
    expect(ready.messagesAfterPersist).toEqual([
      appendAccepted({ from: '2', to: '1', term: 2, matchIndex: 3 }),
    ]);
    expect(core.status().commitIndex).toBe(3);
  });

  it('refuses a chunk from a deposed leader and tells it the newer term', () => {
    const core = makeCore({
      id: '2',
      term: 3,
      log: [1],
      settings: { preVote: true, checkQuorum: true },
    });
    core.step(chunk({ to: '2', term: 2, snapshot: meta(5, 2) }));
    const ready = core.ready();
    expect(ready.snapshotMessages).toEqual([]);
    expect(ready.messagesAfterPersist[0]).toMatchObject({
      type: 'append-entries-response',
      term: 3,
      success: false,
    });
  });

  it('installs a snapshot: the log restarts after it and the leader hears the new match', () => {
    const core = makeCore({ id: '2', term: 1, log: [1, 1] });
    core.step(chunk({ to: '2', term: 1, snapshot: meta(5, 1) }));
    drain(core);
    const learners = configurationOf(['1', '2', '3'], { learners: ['4'] });
    core.installSnapshot({ ...meta(5, 1), configuration: learners });
    expect(core.status()).toMatchObject({
      snapshotIndex: 5,
      lastIndex: 5,
      commitIndex: 5,
      appliedIndex: 5,
      configuration: learners,
    });
    const ready = core.ready();
    expect(ready.committed).toEqual([]);
    expect(ready.messagesAfterPersist).toEqual([
      appendAccepted({ from: '2', to: '1', term: 1, matchIndex: 5 }),
    ]);
  });

  it('keeps the entries after the snapshot when it holds its last entry, and persists them again', () => {
    const core = makeCore({ id: '2', term: 2, log: [1, 1, 2, 2] });
    core.installSnapshot(meta(3, 2));
    expect(core.status()).toMatchObject({ snapshotIndex: 3, lastIndex: 4, commitIndex: 3 });
    expect(core.ready().entries.map((entry) => entry.index)).toEqual([4]);
  });

  it('ignores a snapshot older than its compaction marker', () => {
    const core = makeCore({ id: '2', term: 2, log: [1, 1, 2, 2] });
    core.installSnapshot(meta(3, 2));
    core.installSnapshot(meta(2, 1));
    expect(core.status().snapshotIndex).toBe(3);
  });
});
