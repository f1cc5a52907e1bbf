import type { Entry, NodeId, SnapshotMeta } from './types.js';

interface MessageBase {
  /** The sender's current term; every receiver first compares it with its own (§5.1). */
  readonly term: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** A candidate asks for a vote, or with `preVote` asks whether it would get one (thesis §9.6). */
export interface RequestVote extends MessageBase {
  readonly type: 'request-vote';
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly preVote: boolean;
  /** Set when the leader asked for this campaign: it overrides leader stickiness (thesis §3.10). */
  readonly transfer: boolean;
}

export interface RequestVoteResponse extends MessageBase {
  readonly type: 'request-vote-response';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** Replicates entries after (`prevLogIndex`, `prevLogTerm`) and tells the follower the commit index. */
export interface AppendEntries extends MessageBase {
  readonly type: 'append-entries';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/** A follower's answer to an append: accepted (with what it now holds) or rejected (with a hint). */
export type AppendEntriesResponse = AppendAccepted | AppendRejected;

/** `matchIndex` is the last index the follower now holds from the append. */
export interface AppendAccepted extends MessageBase {
  readonly type: 'append-entries-response';
  readonly success: true;
  readonly matchIndex: number;
}

/**
 * `rejectedIndex` is the `prevLogIndex` that did not match, and the hint lets the leader skip a
 * whole term of mismatching entries at once: `hintIndex` is the largest index at or below
 * `rejectedIndex` whose term is at most the leader's `prevLogTerm`, and `hintTerm` its term.
 */
export interface AppendRejected extends MessageBase {
  readonly type: 'append-entries-response';
  readonly success: false;
  readonly rejectedIndex: number;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/**
 * The leader's liveness signal. `commit` is never above what the follower is known to hold, so a
 * follower may adopt it without a log check. `context` is non-zero when the leader is confirming its
 * leadership for a read (ReadIndex, thesis §6.4).
 */
export interface Heartbeat extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: number;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeat-response';
  readonly context: number;
}

/** The leader tells an up-to-date follower to campaign at once (leadership transfer, thesis §3.10). */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeout-now';
}

/**
 * One chunk of a snapshot. The metadata, the total size and the checksum travel with every chunk, so
 * any chunk is self-describing: a follower that already holds part of the same snapshot (same index,
 * term, size and checksum) tells whoever sends it where to resume, even a new leader.
 */
export interface InstallSnapshot extends MessageBase {
  readonly type: 'install-snapshot';
  readonly snapshot: SnapshotMeta;
  /** Where `data` starts in the snapshot. */
  readonly offset: number;
  readonly data: Uint8Array;
  /** The whole snapshot's size in bytes. */
  readonly totalBytes: number;
  /** CRC-32C over the whole snapshot, checked before it is installed. */
  readonly checksum: number;
  /** Set on the chunk that ends at `totalBytes`. */
  readonly done: boolean;
}

/**
 * Acknowledges the first `bytesReceived` bytes of the snapshot at `snapshotIndex` (cumulative: the
 * sender resumes from there). `success` false says the snapshot was refused as a whole (a checksum
 * mismatch) and must be sent again from the start.
 */
export interface InstallSnapshotResponse extends MessageBase {
  readonly type: 'install-snapshot-response';
  readonly snapshotIndex: number;
  readonly bytesReceived: number;
  readonly success: boolean;
}

/** A follower asks the leader for a read index on behalf of its clients. */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'read-index';
  readonly context: number;
}

/** `index` is the commit index a read may be served at, or -1 when the leader could not confirm it. */
export interface ReadIndexResponse extends MessageBase {
  readonly type: 'read-index-response';
  readonly context: number;
  readonly index: number;
}

/** Every message the Raft protocol sends. All of them are one-way: nothing waits for a reply. */
export type RaftMessage =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | TimeoutNow
  | InstallSnapshot
  | InstallSnapshotResponse
  | ReadIndexRequest
  | ReadIndexResponse;

export type RaftMessageType = RaftMessage['type'];

/** The message type names, for codecs and validation. */
export const raftMessageTypes: readonly RaftMessageType[] = Object.freeze([
  'request-vote',
  'request-vote-response',
  'append-entries',
  'append-entries-response',
  'heartbeat',
  'heartbeat-response',
  'timeout-now',
  'install-snapshot',
  'install-snapshot-response',
  'read-index',
  'read-index-response',
]);
