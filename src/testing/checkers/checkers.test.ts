import { describe, expect, it } from 'vitest';
import type { Entry } from '../../core/types.js';
import { ShadowLog } from '../sim/shadow-log.js';
import { ClusterCheckers } from './cluster-checkers.js';

const command = (index: number, term: number, text: string): Entry => ({
  index,
  term,
  kind: 'command',
  data: new TextEncoder().encode(text),
});

function logOf(entries: readonly Entry[]): ShadowLog {
  const log = new ShadowLog();
  log.append(entries);
  return log;
}

function properties(checkers: ClusterCheckers): string[] {
  return checkers.violations.map((violation) => violation.property);
}

describe('checkers', () => {
  it('§5.2 election safety: at most one leader per term, over all time', () => {
    const checkers = new ClusterCheckers(() => 0);
    checkers.leaderElected('n1', 2, logOf([]));
    checkers.leaderElected('n1', 2, logOf([]));
    checkers.leaderElected('n2', 3, logOf([]));
    expect(checkers.violations).toEqual([]);
    checkers.leaderElected('n3', 2, logOf([]));
    expect(properties(checkers)).toEqual(['election-safety']);
  });

  it('one vote per term: a second granted vote in a term is caught on the wire', () => {
    const checkers = new ClusterCheckers(() => 0);
    const vote = {
      type: 'request-vote-response',
      from: 'n1',
      term: 4,
      preVote: false,
      granted: true,
    };
    checkers.messageSent({ ...vote, to: 'n2' });
    checkers.messageSent({ ...vote, to: 'n2' });
    checkers.messageSent({ ...vote, to: 'n3', preVote: true });
    expect(checkers.violations).toEqual([]);
    checkers.messageSent({ ...vote, to: 'n3' });
    expect(properties(checkers)).toEqual(['election-safety']);
  });

  it('§5.3 log matching: same index and term means the same entry and the same history', () => {
    const checkers = new ClusterCheckers(() => 0);
    const shared = [command(1, 1, 'a'), command(2, 1, 'b')];
    checkers.entriesWritten('n1', shared, logOf(shared));
    checkers.entriesWritten('n2', shared, logOf(shared));
    expect(checkers.violations).toEqual([]);
    const different = [command(1, 1, 'a'), command(2, 1, 'x')];
    checkers.entriesWritten('n3', different.slice(1), logOf(different));
    expect(properties(checkers)).toEqual(['log-matching']);
  });

  it('§5.3 log matching: an entry following a different term at the index before is caught', () => {
    const checkers = new ClusterCheckers(() => 0);
    const first = [command(1, 1, 'a'), command(2, 3, 'b')];
    const second = [command(1, 2, 'z'), command(2, 3, 'b')];
    checkers.entriesWritten('n1', first, logOf(first));
    checkers.entriesWritten('n2', second.slice(1), logOf(second));
    expect(properties(checkers)).toEqual(['log-matching']);
  });

  it('§5.4.3 state machine safety: no two nodes apply different entries at one index', () => {
    const checkers = new ClusterCheckers(() => 0);
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: 'a' }, 1);
    checkers.entryApplied('n2', 1, { index: 1, term: 1, command: 'a' }, 1);
    expect(checkers.violations).toEqual([]);
    checkers.entryApplied('n3', 1, { index: 1, term: 2, command: 'b' }, 2);
    expect(properties(checkers)).toEqual(['state-machine-safety']);
  });

  it('applies each index once, in order, within one process', () => {
    const checkers = new ClusterCheckers(() => 0);
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: null }, 1);
    checkers.entryApplied('n1', 1, { index: 3, term: 1, command: 'c' }, 1);
    expect(properties(checkers)).toEqual(['state-machine-safety']);
  });

  it('§7 a restored snapshot continues the applied sequence; it never covers unapplied entries or goes back', () => {
    const checkers = new ClusterCheckers(() => 0);
    for (let index = 1; index <= 3; index++) {
      checkers.entryApplied('n1', 1, { index, term: 1, command: `c${index}` }, 1);
    }
    checkers.snapshotRestored('n2', 1, 3);
    checkers.entryApplied('n2', 1, { index: 4, term: 1, command: 'c4' }, 1);
    expect(checkers.violations).toEqual([]);
    checkers.snapshotRestored('n3', 1, 9);
    expect(properties(checkers)).toEqual(['state-machine-safety']);
    checkers.snapshotRestored('n2', 1, 2);
    expect(properties(checkers)).toEqual(['state-machine-safety', 'state-machine-safety']);
  });

  it('§5.4 leader completeness: a committed entry is in every later leader log', () => {
    const checkers = new ClusterCheckers(() => 0);
    const held = [command(1, 1, 'a')];
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: 'YQ==' }, 1);
    checkers.leaderElected('n2', 2, logOf(held));
    expect(checkers.violations).toEqual([]);
    checkers.leaderElected('n3', 3, logOf([]));
    expect(properties(checkers)).toEqual(['leader-completeness']);
  });

  it('§5.4 leader completeness: checked again when an entry becomes known as committed', () => {
    const checkers = new ClusterCheckers(() => 0);
    checkers.leaderElected('n2', 5, logOf([command(1, 4, 'x')]));
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: 'YQ==' }, 1);
    expect(properties(checkers)).toEqual(['leader-completeness']);
  });

  it('commit index: never down within a process, never past the log, not below the durable floor', () => {
    const checkers = new ClusterCheckers(() => 0);
    const monotonic = checkers.commitMonotonic;
    monotonic.observeCommit('n1', 1, { commitIndex: 3, lastIndex: 4 });
    monotonic.observeCommit('n1', 2, { commitIndex: 1, lastIndex: 4 });
    monotonic.observeRestart('n1', 2, 2);
    expect(checkers.violations).toEqual([]);
    monotonic.observeCommit('n1', 2, { commitIndex: 0, lastIndex: 4 });
    monotonic.observeCommit('n1', 2, { commitIndex: 5, lastIndex: 4 });
    monotonic.observeRestart('n2', 1, 2);
    expect(properties(checkers)).toEqual([
      'commit-monotonic',
      'commit-monotonic',
      'commit-monotonic',
    ]);
  });

  it('no acknowledged write is lost: each must be in the final committed log', () => {
    const checkers = new ClusterCheckers(() => 0);
    checkers.acknowledgedWrites.acknowledge('YQ==', 'put a');
    checkers.acknowledgedWrites.acknowledge('Yg==', 'put b');
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: 'YQ==' }, 1);
    checkers.acknowledgedWrites.checkFinal(checkers.committedCommands());
    expect(checkers.violations.map((violation) => violation.message)).toEqual([
      'put b was acknowledged but is not in the committed log',
    ]);
    expect(checkers.checks).toBeGreaterThan(0);
  });
});
