import { describe, expect, it } from 'vitest';
import { cutsFor, isolatedServers } from '../cli/cluster-faults.js';
import {
  flowEdges,
  newEventRows,
  serverViews,
  timelineEvents,
  type ClusterPoll,
  type ServerStatus,
} from './cluster-view.js';

function status(id: string, overrides: Partial<ServerStatus> = {}): ServerStatus {
  return {
    id,
    role: 'follower',
    term: 2,
    leaderId: 'n1',
    commitIndex: 10,
    appliedIndex: 10,
    lastIndex: 10,
    snapshotIndex: 0,
    voters: ['n1', 'n2', 'n3'],
    outgoingVoters: [],
    learners: [],
    progress: [],
    flow: {},
    blockedPeers: [],
    recentEvents: [],
    ...overrides,
  };
}

const leader = (overrides: Partial<ServerStatus> = {}): ServerStatus =>
  status('n1', {
    role: 'leader',
    progress: [
      { id: 'n1', match: 10, next: 11, state: 'replicate', lag: 0, recentActive: true },
      { id: 'n2', match: 8, next: 11, state: 'replicate', lag: 2, recentActive: true },
      { id: 'n3', match: 0, next: 1, state: 'probe', lag: 1500, recentActive: false },
    ],
    ...overrides,
  });

function poll(atMs: number, ...statuses: (ServerStatus | [string, null])[]): ClusterPoll {
  return {
    atMs,
    members: statuses.map((entry) =>
      Array.isArray(entry)
        ? { id: entry[0], client: '127.0.0.1:1', http: null, status: null, error: 'down' }
        : { id: entry.id, client: '127.0.0.1:1', http: null, status: entry, error: null },
    ),
  };
}

describe('serverViews', () => {
  it('marks roles, lag and health as the leader sees them', () => {
    const views = serverViews(
      poll(
        0,
        leader({ blockedPeers: ['n2'] }),
        status('n2', { blockedPeers: ['n1', 'n3', 'n4'] }),
        status('n3', { blockedPeers: ['n2'] }),
        ['n4', null],
      ),
    );
    expect(views.map((view) => [view.id, view.role, view.lag, view.health])).toEqual([
      ['n1', 'leader', 0, 'ok'],
      ['n2', 'follower', 2, 'partitioned'],
      ['n3', 'follower', 1500, 'unreachable'],
      ['n4', 'down', null, 'down'],
    ]);
  });

  it('shows learners and the servers of a joint configuration', () => {
    const joint = leader({
      voters: ['n1', 'n2', 'n4'],
      outgoingVoters: ['n1', 'n2', 'n3'],
      learners: ['n5'],
    });
    const views = serverViews(poll(0, joint, status('n3'), status('n4'), status('n5')));
    expect(views.map((view) => [view.id, view.role, view.membership])).toEqual([
      ['n1', 'leader', 'voter'],
      ['n3', 'follower', 'joint'],
      ['n4', 'follower', 'joint'],
      ['n5', 'learner', 'learner'],
    ]);
  });
});

describe('flowEdges', () => {
  it('turns sent-message counters into rates per kind, and skips a restarted counter', () => {
    const before = poll(
      0,
      leader({ flow: { n2: { append: 10, heartbeat: 5 } } }),
      status('n2', { flow: { n1: { append: 100 } } }),
    );
    const after = poll(
      2000,
      leader({ flow: { n2: { append: 30, heartbeat: 9 } } }),
      status('n2', { flow: { n1: { append: 4 } } }),
    );
    expect(flowEdges(before, after)).toEqual([
      { from: 'n1', to: 'n2', kind: 'append', perSecond: 10 },
      { from: 'n1', to: 'n2', kind: 'heartbeat', perSecond: 2 },
    ]);
  });
});

describe('timelineEvents', () => {
  it('reports a leader change with the servers rows recorded in between', () => {
    const before = poll(
      0,
      leader({ recentEvents: [{ sequence: 1, atMs: 0, kind: 'role', text: 'old' }] }),
      status('n2'),
    );
    const after = poll(
      1000,
      ['n1', null],
      status('n2', {
        role: 'leader',
        term: 3,
        recentEvents: [
          { sequence: 4, atMs: 900, kind: 'role', text: 'candidate → leader in term 3' },
        ],
      }),
    );
    const events = timelineEvents(before, after);
    expect(events.map((event) => [event.kind, event.text])).toEqual([
      ['leader', 'n2 leads in term 3'],
      ['fault', 'n1 down'],
    ]);
    expect(events[0]!.rows).toEqual(['00:00:00.900 n2 candidate → leader in term 3']);
  });

  it('reports partitions, heals, snapshots and membership changes', () => {
    const before = poll(0, leader(), status('n2'));
    const after = poll(
      500,
      leader({ learners: ['n4'], snapshotIndex: 8 }),
      status('n2', { blockedPeers: ['n1'] }),
    );
    expect(timelineEvents(before, after).map((event) => event.text)).toEqual([
      'n1 snapshot at 8',
      'n2 cut off from the others',
      'voters n1 n2 n3, learners n4',
    ]);
    expect(timelineEvents(after, before).map((event) => event.text)).toContain('n2 reconnected');
  });

  it('treats every row of a restarted server as new', () => {
    const before = poll(
      0,
      status('n2', { recentEvents: [{ sequence: 9, atMs: 0, kind: 'term', text: 'term 2' }] }),
    );
    const after = poll(
      10,
      status('n2', { recentEvents: [{ sequence: 1, atMs: 5, kind: 'term', text: 'term 2' }] }),
    );
    expect(newEventRows(before, after)).toEqual(['00:00:00.005 n2 term 2']);
  });
});

describe('partition cuts', () => {
  const members = ['n1', 'n2', 'n3'].map((id) => ({ id, client: '', http: null }));

  it('isolating a server makes it block everyone and everyone block it', () => {
    const cuts = cutsFor(members, new Set(['n2']));
    expect(Object.fromEntries(cuts)).toEqual({ n1: ['n2'], n2: ['n1', 'n3'], n3: ['n2'] });
  });

  it('reads the isolated servers back from the cuts the servers report', () => {
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => ({ id, client: '', http: null }));
    const reported = [...cutsFor(five, new Set(['n1', 'n3']))].map(([id, blockedPeers]) => ({
      id,
      blockedPeers,
    }));
    expect([...isolatedServers(five, reported)].sort()).toEqual(['n1', 'n3']);
    expect(isolatedServers(members, [{ id: 'n1', blockedPeers: ['n2'] }]).size).toBe(0);
  });
});
