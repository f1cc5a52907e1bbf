import type { ClusterSettings, NodeCounterValues, Role } from 'raftkit';
import type { FlowCounts } from '../net/observed-transport.js';
import type { RecentEvent } from '../net/recent-events.js';
import type { ServerContext } from './server-context.js';

/** One member's replication progress as the leader sees it; empty on other servers. */
export interface PeerProgressDocument {
  readonly id: string;
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  /** Entries the member is behind the leader's last index. */
  readonly lag: number;
  readonly recentActive: boolean;
}

/**
 * What `RAFT STATUS`, `GET /status` and `raftkit status` report about one server. The CLI, the
 * dashboard and the chaos harness read it; each picks the fields it needs from this one shape.
 */
export interface StatusDocument {
  readonly id: string;
  readonly role: Role;
  readonly term: number;
  readonly leaderId: string | null;
  readonly leaderClientAddress: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  /** The log's compaction marker: entries up to it live only in the snapshot. */
  readonly snapshotIndex: number;
  readonly settings: ClusterSettings;
  readonly voters: readonly string[];
  /** Non-empty only during a joint change. */
  readonly outgoingVoters: readonly string[];
  readonly learners: readonly string[];
  readonly progress: readonly PeerProgressDocument[];
  readonly keys: number;
  readonly replicatedTimeMs: number;
  readonly counters: NodeCounterValues;
  /** Messages sent to and received from each peer, by kind. */
  readonly flow: FlowCounts;
  /** Peers this server is cut off from by `RAFT PARTITION`. */
  readonly blockedPeers: readonly string[];
  readonly recentEvents: readonly RecentEvent[];
}

/** The status document of one server, from its node, store and transport. */
export function statusDocument(context: ServerContext): StatusDocument {
  const status = context.node.status();
  const leader = context.layout.members.find((member) => member.id === status.leaderId);
  return {
    id: status.id,
    role: status.role,
    term: status.term,
    leaderId: status.leaderId,
    leaderClientAddress: leader?.client ?? null,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    lastIndex: status.lastIndex,
    snapshotIndex: status.snapshotIndex,
    settings: status.settings,
    voters: status.configuration.voters,
    outgoingVoters: status.configuration.outgoingVoters,
    learners: status.configuration.learners,
    progress: status.progress.map((peer) => ({
      id: peer.id,
      match: peer.match,
      next: peer.next,
      state: peer.state,
      lag: status.lastIndex - peer.match,
      recentActive: peer.recentActive,
    })),
    keys: context.stateMachine.size,
    replicatedTimeMs: context.stateMachine.replicatedTimeMs,
    counters: status.counters,
    flow: context.transport.flow(),
    blockedPeers: context.transport.blocked,
    recentEvents: context.recentEvents.since(),
  };
}
