import { describe, expect, it } from 'vitest';
import { RaftError } from './errors.js';
import { RaftLog } from './raft-log.js';
import { command, logOf } from './raft-core.test-helpers.js';
import type { Entry } from './types.js';

function logWith(terms: readonly number[], committed = 0): RaftLog {
  return new RaftLog({
    snapshotIndex: 0,
    snapshotTerm: 0,
    entries: logOf(terms),
    committed,
    applied: 0,
  });
}

function termsIn(log: RaftLog): number[] {
  const terms: number[] = [];
  for (let index = log.firstIndex; index <= log.lastIndex; index++) terms.push(log.term(index)!);
  return terms;
}

/** Entries `from`..`from + terms.length - 1` with the given terms, as a leader would send them. */
function leaderEntries(from: number, terms: readonly number[], text = 'leader'): Entry[] {
  return terms.map((term, position) =>
    command(from + position, term, `${text}:${from + position}`),
  );
}

describe('RaftLog.appendFromLeader', () => {
  it('keeps entries that match and appends only what is new', () => {
    const log = logWith([1, 1, 2]);
    const result = log.appendFromLeader(1, leaderEntries(2, [1, 2, 2]));
    // Indexes 2 and 3 already held the same terms: they stay as they were; only 4 is new.
    expect(result).toMatchObject({ lastNewIndex: 4, truncatedFrom: 0 });
    expect(result.appended.map((entry) => entry.index)).toEqual([4]);
    expect(termsIn(log)).toEqual([1, 1, 2, 2]);
    expect(log.entry(2)).toEqual(command(2, 1));
  });

  it('a conflict truncates only the conflicting suffix, never the matching prefix', () => {
    const log = logWith([1, 1, 1, 1]);
    const result = log.appendFromLeader(2, leaderEntries(3, [3]));
    expect(result).toMatchObject({ lastNewIndex: 3, truncatedFrom: 3 });
    expect(termsIn(log)).toEqual([1, 1, 3]);
    expect(log.entry(1)).toEqual(command(1, 1));
    expect(log.entry(2)).toEqual(command(2, 1));
  });

  it('a conflict at index 1 replaces the log from index 1, since the first entry itself conflicts', () => {
    const log = logWith([1, 1]);
    const result = log.appendFromLeader(0, leaderEntries(1, [2]));
    expect(result).toMatchObject({ lastNewIndex: 1, truncatedFrom: 1 });
    expect(termsIn(log)).toEqual([2]);
  });

  it('entries after index 0 that match are kept: a leader starting at index 0 wipes nothing', () => {
    const log = logWith([1, 1, 2]);
    const result = log.appendFromLeader(0, [command(1, 1), command(2, 1)]);
    expect(result).toMatchObject({ lastNewIndex: 2, truncatedFrom: 0, appended: [] });
    expect(termsIn(log)).toEqual([1, 1, 2]);
  });

  it('an empty append changes nothing', () => {
    const log = logWith([1, 2]);
    expect(log.appendFromLeader(2, [])).toEqual({
      lastNewIndex: 2,
      truncatedFrom: 0,
      appended: [],
    });
    expect(log.appendFromLeader(0, [])).toEqual({
      lastNewIndex: 0,
      truncatedFrom: 0,
      appended: [],
    });
    expect(termsIn(log)).toEqual([1, 2]);
  });

  it('a stale, shorter append leaves the longer matching log alone', () => {
    const log = logWith([1, 1, 1, 1, 1]);
    const result = log.appendFromLeader(1, [command(2, 1)]);
    expect(result.lastNewIndex).toBe(2);
    expect(termsIn(log)).toEqual([1, 1, 1, 1, 1]);
  });

  it('refuses to overwrite a committed entry (INVARIANT)', () => {
    const log = logWith([1, 1, 1], 2);
    let thrown: unknown;
    try {
      log.appendFromLeader(1, leaderEntries(2, [2]));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RaftError);
    expect((thrown as RaftError).code).toBe('INVARIANT');
    expect(termsIn(log)).toEqual([1, 1, 1]);
  });

  it('may overwrite the first entry after the commit index', () => {
    const log = logWith([1, 1, 1], 2);
    log.appendFromLeader(2, leaderEntries(3, [2]));
    expect(termsIn(log)).toEqual([1, 1, 2]);
    expect(log.committed).toBe(2);
  });

  it('a truncation makes the replacing entries unstable again', () => {
    const log = logWith([1, 1, 1]);
    expect(log.stableIndex).toBe(3);
    log.appendFromLeader(1, leaderEntries(2, [2]));
    expect(log.stableIndex).toBe(1);
    expect(log.takeUnsent().map((entry) => `${entry.index}/${entry.term}`)).toEqual(['2/2']);
  });
});

describe('RaftLog.findConflictByTerm', () => {
  const log = logWith([1, 1, 3, 3, 3, 5, 5]);

  it('returns the index itself when its term is at most the given term', () => {
    expect(log.findConflictByTerm(7, 5)).toEqual({ index: 7, term: 5 });
    expect(log.findConflictByTerm(5, 4)).toEqual({ index: 5, term: 3 });
  });

  it('skips back over a whole term above the given term', () => {
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 5, term: 3 });
    expect(log.findConflictByTerm(7, 2)).toEqual({ index: 2, term: 1 });
  });

  it('reaches index 0 when every entry is newer than the given term', () => {
    expect(log.findConflictByTerm(7, 0)).toEqual({ index: 0, term: 0 });
  });

  it('starts from the last index when asked beyond it', () => {
    expect(log.findConflictByTerm(100, 9)).toEqual({ index: 7, term: 5 });
  });

  it('on an empty log answers index 0', () => {
    expect(logWith([]).findConflictByTerm(5, 3)).toEqual({ index: 0, term: 0 });
  });
});

describe('RaftLog.stableTo', () => {
  it('marks entries durable up to the index', () => {
    const log = logWith([]);
    log.append([command(1, 1), command(2, 1), command(3, 1)]);
    expect(log.stableIndex).toBe(0);
    expect(log.takeUnsent().map((entry) => entry.index)).toEqual([1, 2, 3]);
    log.stableTo(2, 1);
    expect(log.stableIndex).toBe(2);
  });

  it('hands entries to storage once, even while their write is still in flight', () => {
    const log = logWith([]);
    log.append([command(1, 1), command(2, 1)]);
    expect(log.takeUnsent().map((entry) => entry.index)).toEqual([1, 2]);
    log.append([command(3, 1)]);
    expect(log.hasUnsent()).toBe(true);
    expect(log.takeUnsent().map((entry) => entry.index)).toEqual([3]);
    expect(log.hasUnsent()).toBe(false);
    expect(log.stableIndex).toBe(0);
    log.stableTo(2, 1);
    expect(log.stableIndex).toBe(2);
    log.stableTo(3, 1);
    expect(log.stableIndex).toBe(3);
  });

  it('never marks durable an entry that was not handed to storage', () => {
    const log = logWith([]);
    log.append([command(1, 1)]);
    log.stableTo(1, 1);
    expect(log.stableIndex).toBe(0);
  });

  it('ignores an acknowledgement for an entry that was replaced meanwhile', () => {
    const log = logWith([1]);
    log.append([command(2, 1), command(3, 1)]);
    log.takeUnsent();
    // The persist of [2/1 3/1] is under way when a new leader replaces index 3.
    log.appendFromLeader(2, leaderEntries(3, [2]));
    log.stableTo(3, 1);
    expect(log.stableIndex).toBe(1);
    // 2/1 is in the write under way; only the replacement is handed out again.
    expect(log.takeUnsent().map((entry) => `${entry.index}/${entry.term}`)).toEqual(['3/2']);
    log.stableTo(3, 2);
    expect(log.stableIndex).toBe(3);
  });

  it('never moves backwards', () => {
    const log = logWith([1, 1, 1]);
    log.stableTo(1, 1);
    expect(log.stableIndex).toBe(3);
  });
});

describe('RaftLog.takeCommitted', () => {
  it('hands out committed entries in order, at most entriesMax at a time', () => {
    const log = logWith([1, 1, 1, 1, 1], 5);
    expect(log.takeCommitted(2).map((entry) => entry.index)).toEqual([1, 2]);
    expect(log.takeCommitted(2).map((entry) => entry.index)).toEqual([3, 4]);
    expect(log.hasCommittedToApply()).toBe(true);
    expect(log.takeCommitted(2).map((entry) => entry.index)).toEqual([5]);
    expect(log.takeCommitted(2)).toEqual([]);
    expect(log.hasCommittedToApply()).toBe(false);
  });

  it('hands out nothing beyond the commit index', () => {
    const log = logWith([1, 1, 1], 1);
    expect(log.takeCommitted(10).map((entry) => entry.index)).toEqual([1]);
    expect(log.takeCommitted(10)).toEqual([]);
    log.commitTo(3);
    expect(log.takeCommitted(10).map((entry) => entry.index)).toEqual([2, 3]);
  });

  it('starts after what the application already applied', () => {
    const log = new RaftLog({
      snapshotIndex: 0,
      snapshotTerm: 0,
      entries: logOf([1, 1, 1]),
      committed: 3,
      applied: 2,
    });
    expect(log.takeCommitted(10).map((entry) => entry.index)).toEqual([3]);
  });
});

describe('RaftLog bookkeeping', () => {
  it('commitTo never lowers the commit index and never passes the last index', () => {
    const log = logWith([1, 1, 1]);
    expect(log.commitTo(2)).toBe(true);
    expect(log.commitTo(1)).toBe(false);
    expect(log.committed).toBe(2);
    expect(() => log.commitTo(4)).toThrow(RaftError);
  });

  it('isUpToDate compares the last term first, then the index (§5.4.1)', () => {
    const log = logWith([1, 1, 2]);
    expect(log.isUpToDate(2, 3)).toBe(true);
    expect(log.isUpToDate(9, 1)).toBe(false);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(4, 2)).toBe(true);
  });

  it('rejects stored entries that are not consecutive or whose terms go down', () => {
    const gap = (): RaftLog =>
      new RaftLog({
        snapshotIndex: 0,
        snapshotTerm: 0,
        entries: [command(1, 1), command(3, 1)],
        committed: 0,
        applied: 0,
      });
    const down = (): RaftLog =>
      new RaftLog({
        snapshotIndex: 0,
        snapshotTerm: 0,
        entries: [command(1, 2), command(2, 1)],
        committed: 0,
        applied: 0,
      });
    expect(gap).toThrow(RaftError);
    expect(down).toThrow(RaftError);
  });

  it('slice keeps to entriesMax and bytesMax but always returns at least one entry', () => {
    const log = logWith([1, 1, 1, 1, 1]);
    expect(log.slice(1, 6, { entriesMax: 2, bytesMax: 1_000_000 }).length).toBe(2);
    // Each entry here is 24 + 3 bytes on the estimate; 60 bytes hold two.
    expect(log.slice(1, 6, { entriesMax: 10, bytesMax: 60 }).length).toBe(2);
    expect(log.slice(1, 6, { entriesMax: 10, bytesMax: 1 }).length).toBe(1);
    expect(log.slice(4, 100, { entriesMax: 10, bytesMax: 1_000_000 }).length).toBe(2);
  });
});
