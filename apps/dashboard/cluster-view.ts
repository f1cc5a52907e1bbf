import { isolatedServers } from '../cli/cluster-faults.js';
import type { FlowKind } from '../kv/net/observed-transport.js';
import type { StatusDocument } from '../kv/server/status-document.js';

/** The part of a server's status document (`/status`) the dashboard reads. */
export type ServerStatus = Pick<
  StatusDocument,
  | 'id'
  | 'role'
  | 'term'
  | 'leaderId'
  | 'commitIndex'
  | 'appliedIndex'
  | 'lastIndex'
  | 'snapshotIndex'
  | 'voters'
  | 'outgoingVoters'
  | 'learners'
  | 'progress'
  | 'flow'
  | 'blockedPeers'
  | 'recentEvents'
>;

/** One member as polled: its status, or why it did not answer. */
export interface MemberPoll {
  readonly id: string;
  readonly client: string;
  readonly http: string | null;
  readonly status: ServerStatus | null;
  readonly error: string | null;
}

/** Every member's answer at one moment. */
export interface ClusterPoll {
  readonly atMs: number;
  readonly members: readonly MemberPoll[];
}

/** How one server is shown. `data-role` on the page is `role` (or `down`). */
export interface ServerView {
  readonly id: string;
  readonly client: string;
  readonly up: boolean;
  readonly role: 'leader' | 'follower' | 'candidate' | 'learner' | 'down';
  readonly term: number | null;
  readonly leaderId: string | null;
  readonly lastIndex: number | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly snapshotIndex: number | null;
  readonly membership: 'voter' | 'learner' | 'joint' | 'not a member';
  /** Entries behind the leader's log, as the leader sees it; null when no leader reports it. */
  readonly lag: number | null;
  /**
   * `ok`, `down`, `partitioned` (cut off from every other server on purpose), `lagging` or
   * `unreachable` (the leader hears nothing from it).
   */
  readonly health: 'ok' | 'down' | 'partitioned' | 'lagging' | 'unreachable';
  readonly blockedPeers: readonly string[];
}

/** Messages per second along one arrow. */
export interface FlowEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: FlowKind;
  readonly perSecond: number;
}

/** One moment of the timeline, with the server rows that explain it. */
export interface TimelineEvent {
  readonly atMs: number;
  readonly kind: 'election' | 'leader' | 'membership' | 'snapshot' | 'fault' | 'action';
  readonly text: string;
  readonly rows: readonly string[];
}

/** Lag beyond which a follower is marked `lagging`. */
export const laggingEntriesMin = 1000;

/** The leader the cluster agrees on: the one claiming leadership in the highest term. */
export function clusterLeader(poll: ClusterPoll): ServerStatus | null {
  let leader: ServerStatus | null = null;
  for (const { status } of poll.members) {
    if (status?.role !== 'leader') continue;
    if (leader === null || status.term > leader.term) leader = status;
  }
  return leader;
}

/** The servers as the page shows them. */
export function serverViews(poll: ClusterPoll): ServerView[] {
  const leader = clusterLeader(poll);
  const isolated = isolatedIn(poll);
  const progress = new Map(leader?.progress.map((peer) => [peer.id, peer]) ?? []);
  return poll.members.map(({ id, client, status }) => {
    if (status === null) {
      return {
        id,
        client,
        up: false,
        role: 'down',
        term: null,
        leaderId: null,
        lastIndex: null,
        commitIndex: null,
        appliedIndex: null,
        snapshotIndex: null,
        membership: membershipOf(id, leader),
        lag: null,
        health: 'down',
        blockedPeers: [],
      } satisfies ServerView;
    }
    const peer = progress.get(id);
    const lag = status.role === 'leader' ? 0 : (peer?.lag ?? null);
    const blockedPeers = status.blockedPeers;
    const membership = membershipOf(id, leader ?? status);
    return {
      id,
      client,
      up: true,
      role: roleOf(status.role, membership),
      term: status.term,
      leaderId: status.leaderId,
      lastIndex: status.lastIndex,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      snapshotIndex: status.snapshotIndex ?? null,
      membership,
      lag,
      health: isolated.has(id)
        ? 'partitioned'
        : peer !== undefined && !peer.recentActive
          ? 'unreachable'
          : lag !== null && lag >= laggingEntriesMin
            ? 'lagging'
            : 'ok',
      blockedPeers,
    } satisfies ServerView;
  });
}

function roleOf(role: string, membership: ServerView['membership']): ServerView['role'] {
  if (role === 'leader' || role === 'candidate') return role;
  return membership === 'learner' ? 'learner' : 'follower';
}

function membershipOf(id: string, view: ServerStatus | null): ServerView['membership'] {
  if (view === null) return 'voter';
  const incoming = view.voters.includes(id);
  const outgoing = view.outgoingVoters.includes(id);
  if (incoming && view.outgoingVoters.length > 0 && !outgoing) return 'joint';
  if (!incoming && outgoing) return 'joint';
  if (incoming) return 'voter';
  return view.learners.includes(id) ? 'learner' : 'not a member';
}

/** The servers that block every other member (see `raftkit cluster partition`). */
function isolatedIn(poll: ClusterPoll): Set<string> {
  const cuts = poll.members.flatMap(({ id, status }) =>
    status === null ? [] : [{ id, blockedPeers: status.blockedPeers }],
  );
  return isolatedServers(poll.members, cuts);
}

/** Messages per second between servers over the interval between two polls. */
export function flowEdges(previous: ClusterPoll, next: ClusterPoll): FlowEdge[] {
  const seconds = (next.atMs - previous.atMs) / 1000;
  if (seconds <= 0) return [];
  const before = new Map(previous.members.map((member) => [member.id, member.status?.flow]));
  const edges: FlowEdge[] = [];
  for (const member of next.members) {
    const flow = member.status?.flow;
    if (flow === undefined) continue;
    const earlier = before.get(member.id);
    for (const [to, counts] of Object.entries(flow)) {
      for (const [kind, count] of Object.entries(counts) as [FlowKind, number][]) {
        // A restarted server counts from zero again; its first interval shows no flow.
        const delta = count - (earlier?.[to]?.[kind] ?? count);
        if (delta > 0) edges.push({ from: member.id, to, kind, perSecond: delta / seconds });
      }
    }
  }
  return edges;
}

/**
 * What changed between two polls, as timeline events: elections, leader changes, servers going
 * down or up, partitions, membership and snapshots. Each carries the servers' own event rows
 * recorded in that interval.
 */
export function timelineEvents(previous: ClusterPoll, next: ClusterPoll): TimelineEvent[] {
  const rows = newEventRows(previous, next);
  const events: TimelineEvent[] = [];
  const add = (kind: TimelineEvent['kind'], text: string): void => {
    events.push({ atMs: next.atMs, kind, text, rows });
  };
  const leaderBefore = clusterLeader(previous);
  const leaderAfter = clusterLeader(next);
  if (leaderAfter !== null && leaderAfter.id !== leaderBefore?.id) {
    add('leader', `${leaderAfter.id} leads in term ${leaderAfter.term}`);
  } else if (
    leaderAfter !== null &&
    leaderBefore !== null &&
    leaderAfter.term > leaderBefore.term
  ) {
    add('election', `${leaderAfter.id} re-elected in term ${leaderAfter.term}`);
  } else if (leaderAfter === null && leaderBefore !== null) {
    add('election', `no leader (was ${leaderBefore.id} in term ${leaderBefore.term})`);
  }
  const before = new Map(previous.members.map((member) => [member.id, member.status]));
  for (const member of next.members) {
    const earlier = before.get(member.id);
    const now = member.status;
    if (earlier !== undefined && earlier !== null && now === null)
      add('fault', `${member.id} down`);
    if (earlier === null && now !== null) add('fault', `${member.id} up`);
    if (
      now?.snapshotIndex !== undefined &&
      earlier?.snapshotIndex !== undefined &&
      now.snapshotIndex > earlier.snapshotIndex
    ) {
      add('snapshot', `${member.id} snapshot at ${now.snapshotIndex}`);
    }
  }
  const isolatedBefore = isolatedIn(previous);
  const isolatedAfter = isolatedIn(next);
  for (const id of isolatedAfter) {
    if (!isolatedBefore.has(id)) add('fault', `${id} cut off from the others`);
  }
  for (const id of isolatedBefore) {
    const status = next.members.find((member) => member.id === id)?.status;
    if (!isolatedAfter.has(id) && status != null) add('fault', `${id} reconnected`);
  }
  if (leaderAfter !== null && leaderBefore !== null) {
    const describe = (status: ServerStatus): string =>
      [
        status.voters.join(' '),
        status.outgoingVoters?.join(' ') ?? '',
        status.learners.join(' '),
      ].join(' | ');
    if (describe(leaderAfter) !== describe(leaderBefore)) {
      const learners =
        leaderAfter.learners.length === 0 ? '' : `, learners ${leaderAfter.learners.join(' ')}`;
      add('membership', `voters ${leaderAfter.voters.join(' ')}${learners}`);
    }
  }
  return events;
}

/** The servers' event rows recorded after the previous poll, oldest first. */
export function newEventRows(previous: ClusterPoll, next: ClusterPoll): string[] {
  const seen = new Map(
    previous.members.map((member) => [
      member.id,
      Math.max(0, ...(member.status?.recentEvents ?? []).map((event) => event.sequence)),
    ]),
  );
  const rows: { atMs: number; text: string }[] = [];
  for (const member of next.members) {
    const events = member.status?.recentEvents ?? [];
    const after = seen.get(member.id) ?? 0;
    // A server whose sequence went backwards restarted: all of its events are new.
    const restarted =
      events.length > 0 && Math.max(...events.map((event) => event.sequence)) < after;
    for (const event of events) {
      if (restarted || event.sequence > after) {
        rows.push({
          atMs: event.atMs,
          text: `${formatClock(event.atMs)} ${member.id} ${event.text}`,
        });
      }
    }
  }
  return rows.sort((left, right) => left.atMs - right.atMs).map((row) => row.text);
}

/** `hh:mm:ss.mmm` in UTC, for rows a person compares across servers. */
export function formatClock(atMs: number): string {
  return new Date(atMs).toISOString().slice(11, 23);
}
