import { describe, expect, it } from 'vitest';
import type { Role } from '../../core/configuration.js';
import { configurationOf, type Entry } from '../../core/types.js';
import { ClusterCheckers } from './cluster-checkers.js';
import { arrayLogView, type ClusterView, type ServerView } from './cluster-view.js';
import { ViolationLog } from './safety-violation.js';
import { ReadIndexChecker } from './read-index.js';

const command = (index: number, term: number, text = `c${index}`): Entry => ({
  index,
  term,
  kind: 'command',
  data: new TextEncoder().encode(text),
});

/** One server of a fabricated cluster; every field can be changed between checks. */
interface FakeServer {
  id: string;
  role: Role;
  term: number;
  commitIndex: number;
  /** The log in memory, index 1 first. */
  log: Entry[];
  /** The log on disk, index 1 first; the in-memory log unless set. */
  disk?: Entry[];
  /** The process's own last index, when its storage's log (`log`) is ahead of it. */
  processLastIndex?: number;
  vote?: string | null;
}

/** A cluster of fabricated servers, all voters, all running, the disk term the memory's. */
function fakeCluster(servers: FakeServer[]): ClusterView {
  const configuration = configurationOf(servers.map((server) => server.id));
  const noSnapshot = { index: 0, term: 0 };
  const viewOf = (server: FakeServer): ServerView => ({
    id: server.id,
    process: {
      incarnation: 1,
      role: server.role,
      term: server.term,
      commitIndex: server.commitIndex,
      lastIndex: server.processLastIndex ?? server.log.length,
      configuration,
      log: arrayLogView(noSnapshot, server.log),
    },
    durable: {
      term: server.term,
      vote: server.vote ?? null,
      log: arrayLogView(noSnapshot, server.disk ?? server.log),
    },
  });
  return {
    servers: () => servers.map(viewOf),
    server: (id) => {
      const server = servers.find((candidate) => candidate.id === id);
      return server === undefined ? undefined : viewOf(server);
    },
  };
}

function follower(id: string, log: Entry[] = [], changes: Partial<FakeServer> = {}): FakeServer {
  return { id, role: 'follower', term: 1, commitIndex: 0, log, ...changes };
}

function checkersOf(servers: FakeServer[]): ClusterCheckers {
  return new ClusterCheckers({ now: () => 0, cluster: fakeCluster(servers) });
}

function properties(checkers: ClusterCheckers): string[] {
  return checkers.violations.map((violation) => violation.property);
}

const emptyLog = arrayLogView({ index: 0, term: 0 }, []);

describe('checkers', () => {
  it('§5.2 election safety: at most one leader per term, over all time', () => {
    const checkers = checkersOf([]);
    checkers.leaderElected('n1', 2, emptyLog);
    checkers.leaderElected('n1', 2, emptyLog);
    checkers.leaderElected('n2', 3, emptyLog);
    expect(checkers.violations).toEqual([]);
    checkers.leaderElected('n3', 2, emptyLog);
    expect(properties(checkers)).toEqual(['election-safety']);
  });

  it('one vote per term: a second granted vote in a term is caught on the wire', () => {
    const checkers = checkersOf([follower('n1', [], { term: 4, vote: 'n2' })]);
    const vote = {
      type: 'request-vote-response',
      from: 'n1',
      term: 4,
      preVote: false,
      granted: true,
    } as const;
    checkers.messageSent({ ...vote, to: 'n2' });
    checkers.messageSent({ ...vote, to: 'n2' });
    checkers.messageSent({ ...vote, to: 'n3', preVote: true });
    expect(checkers.violations).toEqual([]);
    checkers.messageSent({ ...vote, to: 'n3' });
    expect(properties(checkers)).toContain('election-safety');
  });

  it('one vote per term: a vote on disk that changes within a term is caught', () => {
    const voter = follower('n1', [], { term: 3, vote: 'n2' });
    const checkers = checkersOf([voter]);
    checkers.serversChanged(['n1']);
    voter.vote = 'n3';
    checkers.serversChanged(['n1']);
    expect(properties(checkers)).toEqual(['election-safety']);
  });

  it('Figure 2: a granted vote must be on the voter’s disk when it leaves', () => {
    const voter = follower('n1', [], { term: 3, vote: 'n2' });
    const checkers = checkersOf([voter]);
    const grant = {
      type: 'request-vote-response',
      from: 'n1',
      to: 'n2',
      term: 3,
      preVote: false,
      granted: true,
    } as const;
    checkers.messageSent(grant);
    expect(checkers.violations).toEqual([]);
    voter.vote = null;
    checkers.messageSent(grant);
    expect(checkers.violations.map((violation) => violation.message)).toEqual([
      'n1 granted n2 its vote in term 3 but its disk holds term 3 vote none',
    ]);
  });

  it('Figure 2: an acknowledgement must find the entries on the follower’s disk', () => {
    const log = [command(1, 1), command(2, 1)];
    const writer = follower('n2', log);
    const checkers = checkersOf([writer]);
    const ack = {
      type: 'append-entries-response',
      from: 'n2',
      to: 'n1',
      term: 1,
      success: true,
      matchIndex: 2,
    } as const;
    checkers.messageSent(ack);
    expect(checkers.violations).toEqual([]);
    writer.disk = log.slice(0, 1);
    checkers.messageSent(ack);
    expect(properties(checkers)).toEqual(['durability']);
  });

  it('§5.3 log matching: same index and term means the same entry and the same history', () => {
    const checkers = checkersOf([]);
    const shared = [command(1, 1, 'a'), command(2, 1, 'b')];
    const view = (entries: Entry[]) => arrayLogView({ index: 0, term: 0 }, entries);
    checkers.entriesWritten('n1', shared, view(shared));
    checkers.entriesWritten('n2', shared, view(shared));
    expect(checkers.violations).toEqual([]);
    const different = [command(1, 1, 'a'), command(2, 1, 'x')];
    checkers.entriesWritten('n3', different.slice(1), view(different));
    expect(properties(checkers)).toEqual(['log-matching']);
    const first = [command(1, 1, 'a'), command(2, 3, 'b')];
    const second = [command(1, 2, 'z'), command(2, 3, 'b')];
    checkers.entriesWritten('n1', first.slice(1), view(first));
    checkers.entriesWritten('n2', second.slice(1), view(second));
    expect(properties(checkers)).toEqual(['log-matching', 'log-matching']);
  });

  it('§5.4.3 state machine safety: a committed entry is the same on every server', () => {
    const a = follower('n1', [command(1, 1, 'x')], { commitIndex: 1 });
    const b = follower('n2', [command(1, 1, 'y')], { commitIndex: 0 });
    const checkers = checkersOf([a, b]);
    checkers.serversChanged(['n1', 'n2']);
    expect(properties(checkers)).not.toContain('state-machine-safety');
    b.commitIndex = 1;
    checkers.serversChanged(['n2']);
    expect(properties(checkers)).toContain('state-machine-safety');
  });

  it('§5.4.3 state machine safety: no two nodes apply different entries at one index', () => {
    const checkers = checkersOf([]);
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: 'a' });
    checkers.entryApplied('n2', 1, { index: 1, term: 1, command: 'a' });
    expect(checkers.violations).toEqual([]);
    checkers.entryApplied('n3', 1, { index: 1, term: 2, command: 'b' });
    expect(properties(checkers)).toEqual(['state-machine-safety']);
  });

  it('§5.4.3 state machine safety: what is applied is what was committed there', () => {
    const checkers = checkersOf([follower('n1', [command(1, 2)], { commitIndex: 1 })]);
    checkers.serversChanged(['n1']);
    checkers.entryApplied('n2', 1, { index: 1, term: 1, command: 'a' });
    expect(properties(checkers)).toEqual(['state-machine-safety']);
  });

  it('applies each index once, in order, within one process', () => {
    const checkers = checkersOf([]);
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: null });
    checkers.entryApplied('n1', 1, { index: 3, term: 1, command: 'c' });
    expect(properties(checkers)).toEqual(['state-machine-safety']);
  });

  it('§7 a restored snapshot continues the applied sequence; it never covers unapplied entries or goes back', () => {
    const checkers = checkersOf([]);
    for (let index = 1; index <= 3; index++) {
      checkers.entryApplied('n1', 1, { index, term: 1, command: `c${index}` });
    }
    checkers.snapshotRestored('n2', 1, 3);
    checkers.entryApplied('n2', 1, { index: 4, term: 1, command: 'c4' });
    expect(checkers.violations).toEqual([]);
    checkers.snapshotRestored('n3', 1, 9);
    expect(properties(checkers)).toEqual(['state-machine-safety']);
    checkers.snapshotRestored('n2', 1, 2);
    expect(properties(checkers)).toEqual(['state-machine-safety', 'state-machine-safety']);
  });

  it('§5.4 leader completeness: a committed entry is in every later leader’s log', () => {
    const held = [command(1, 1, 'a')];
    const checkers = checkersOf([follower('n1', held, { commitIndex: 1 })]);
    checkers.serversChanged(['n1']);
    checkers.leaderElected('n2', 2, arrayLogView({ index: 0, term: 0 }, held));
    expect(checkers.violations).toEqual([]);
    checkers.leaderElected('n3', 3, emptyLog);
    expect(properties(checkers)).toEqual(['leader-completeness']);
  });

  it('§5.4 leader completeness: checked again when an entry becomes known as committed', () => {
    const committer = follower('n1', [command(1, 1, 'a')], { commitIndex: 1 });
    const checkers = checkersOf([committer]);
    checkers.leaderElected('n2', 5, arrayLogView({ index: 0, term: 0 }, [command(1, 4, 'x')]));
    checkers.serversChanged(['n1']);
    expect(properties(checkers)).toContain('leader-completeness');
  });

  it('§5.4.3 no server that lacks a committed entry could win an election (Figure 8)', () => {
    const old = [command(1, 1), command(2, 2)];
    const newer = [command(1, 1), command(2, 3)];
    const checkers = checkersOf([
      follower('n1', old, { role: 'leader', term: 4, commitIndex: 2 }),
      follower('n2', newer),
      follower('n3', old),
    ]);
    checkers.serversChanged(['n1', 'n2', 'n3']);
    expect(checkers.violations.map((violation) => violation.message)).toContain(
      'n2 lacks committed entry 2/2 command YzI= yet a quorum of its configuration would elect it',
    );
  });

  it('§5.4.3 a server whose storage is ahead of its process is judged once the process catches up', () => {
    // As a follower installing a leader's snapshot: its storage already holds what the process
    // has not taken yet, while the process still runs on its old log and configuration. The two
    // mixed are no server at all, so it is judged only when they agree again.
    const log = [command(1, 1), command(2, 1)];
    const installing = follower('n3', [command(1, 1), command(2, 2, 'x')], { processLastIndex: 1 });
    const checkers = checkersOf([
      follower('n1', log, { role: 'leader', commitIndex: 2 }),
      follower('n2', log),
      installing,
    ]);
    checkers.serversChanged(['n1', 'n2', 'n3']);
    expect(checkers.violations).toEqual([]);
    delete installing.processLastIndex;
    checkers.serversChanged(['n3']);
    expect(checkers.violations.map((violation) => violation.message)).toContain(
      'n3 lacks committed entry 2/1 command YzI= yet a quorum of its configuration would elect it',
    );
  });

  it('§5.3 committed means on a quorum of disks: a leader counts no copy a crash would lose', () => {
    const log = [command(1, 1)];
    const leader = follower('n1', log, { role: 'leader', disk: [] });
    const checkers = checkersOf([leader, follower('n2', log), follower('n3')]);
    checkers.serversChanged(['n1']);
    leader.commitIndex = 1;
    checkers.serversChanged(['n1']);
    expect(checkers.violations.map((violation) => violation.message)).toContain(
      'n1 committed 1/1 but no quorum of its configuration holds it on disk',
    );
  });

  it('commit index: never down within a process, never past the log, not below the durable floor', () => {
    const checkers = checkersOf([]);
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
    const checkers = checkersOf([]);
    checkers.acknowledgedWrites.acknowledge('YQ==', 'put a');
    checkers.acknowledgedWrites.acknowledge('Yg==', 'put b');
    checkers.entryApplied('n1', 1, { index: 1, term: 1, command: 'YQ==' });
    checkers.acknowledgedWrites.checkFinal(checkers.committedCommands());
    expect(checkers.violations.map((violation) => violation.message)).toEqual([
      'put b was acknowledged but is not in the committed log',
    ]);
    expect(checkers.checks).toBeGreaterThan(0);
  });

  it('§6.4 a ReadIndex answer below what was committed when the read began', () => {
    const log = new ViolationLog(() => 0);
    const reads = new ReadIndexChecker(log);
    const fresh = reads.request('1', 5);
    reads.answer('1', { context: fresh, confirmed: true, index: 5 });
    const refused = reads.request('1', 5);
    reads.answer('1', { context: refused, confirmed: false });
    expect(log.violations).toEqual([]);
    const stale = reads.request('1', 5);
    reads.answer('1', { context: stale, confirmed: true, index: 4 });
    expect(log.violations.map((violation) => violation.property)).toEqual(['linearizability']);
    expect(reads.answered).toBe(2);
  });
});
