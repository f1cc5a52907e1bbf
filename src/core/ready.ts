import type { Role } from './configuration.js';
import type { InstallSnapshot, InstallSnapshotResponse, RaftMessage } from './messages.js';
import type { ReadState } from './read-index.js';
import type { Entry, HardState, NodeId, SnapshotMeta } from './types.js';

/** Who leads, as this server believes, and in which role it is itself. */
export interface SoftState {
  readonly role: Role;
  readonly term: number;
  readonly leaderId: NodeId | null;
}

/**
 * The work a core hands its runtime. The runtime must, in this order:
 * 1. send `messages` (they do not depend on this Ready being durable; a leader's appends go here so
 *    its own disk write runs in parallel with replication, thesis §10.2.1);
 * 2. persist `hardState` (if not null) and `entries` together, durably;
 * 3. send `messagesAfterPersist` (votes and acknowledgements promise durable state);
 * 4. apply `committed` in order, then serve `reads` whose index has been applied;
 * 5. call `advance(ready)`.
 * `snapshotTransfers` and `snapshotMessages` are the runtime's to act on whenever it likes: the
 * snapshot's data never passes through the core.
 * Inputs (`step`, `tick`, `propose`) may arrive between `ready()` and `advance()`.
 */
export interface Ready {
  /**
   * The hard state to persist: present when term or vote changed, and with any entries once the
   * commit index has moved, so a restarted server re-applies up to the commit index it knew.
   */
  readonly hardState: HardState | null;
  /**
   * Entries to persist. If the first index is at or below the stored last index the stored suffix
   * from that index is replaced.
   */
  readonly entries: readonly Entry[];
  readonly messages: readonly RaftMessage[];
  readonly messagesAfterPersist: readonly RaftMessage[];
  /** Committed entries to apply, in order. */
  readonly committed: readonly Entry[];
  /** Answers to `readIndex` requests; serve each once the applied index reaches its index. */
  readonly reads: readonly ReadState[];
  /**
   * Leader: followers that need a snapshot, because the entries they lack were compacted away.
   * The runtime streams the snapshot in `install-snapshot` chunks and reports a failure with
   * `reportSnapshotFailed`; the follower's append acknowledgement ends a successful transfer.
   */
  readonly snapshotTransfers: readonly SnapshotTransfer[];
  /**
   * Snapshot chunks a follower accepted (to store, then install with `installSnapshot` once
   * complete) and chunk acknowledgements a leader received (to drive its transfer).
   */
  readonly snapshotMessages: readonly (InstallSnapshot | InstallSnapshotResponse)[];
  /** Present when role, term or leader changed since the previous Ready. */
  readonly softState: SoftState | null;
}

/** A snapshot the leader wants sent to one follower. */
export interface SnapshotTransfer {
  readonly to: NodeId;
  readonly snapshot: SnapshotMeta;
}
