import type { Role } from './configuration.js';
import type { InstallSnapshot, InstallSnapshotResponse, RaftMessage } from './messages.js';
import type { ReadState } from './state.js';
import type { Entry, HardState, NodeId, SnapshotMeta } from './types.js';

/** Who leads, as this server believes, and in which role it is itself. */
export interface SoftState {
  readonly role: Role;
  readonly term: number;
  readonly leaderId: NodeId | null;
}

/**
 * The work a core hands its runtime. For each Ready, in the order they were taken, the runtime must:
 * 1. send `messages` (they rest on nothing still being written: a leader's appends go here so its
 *    own disk write runs in parallel with replication, thesis §10.2.1);
 * 2. persist `hardState` (if not null) and `entries` durably, after the writes of every earlier
 *    Ready (writes keep their order; several Ready values may share one sync);
 * 3. once that write and every earlier one are durable, send `messagesAfterPersist` (votes and
 *    acknowledgements promise durable state) and call `advance(ready)`;
 * 4. apply `committed` in order, no earlier than step 3, then serve `reads` whose index has been
 *    applied. A Ready with nothing to write may be applied before the writes of earlier Ready
 *    values finish if every entry in its `committed` is at or below `stableIndex` (durable here)
 *    and every earlier `committed` has been applied: its step 3 waits, its apply need not.
 * The runtime may take the next Ready before it has finished with this one (while its write is in
 * flight, or while it applies), so heartbeats and appends never wait for the disk; a runtime that
 * finishes each Ready before taking the next is the simple case of the same contract.
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
