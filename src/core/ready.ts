import type { Role } from './configuration.js';
import type { RaftMessage } from './messages.js';
import type { ReadState } from './read-index.js';
import type { Entry, HardState, NodeId } from './types.js';

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
 * Inputs (`step`, `tick`, `propose`) may arrive between `ready()` and `advance()`.
 */
export interface Ready {
  /** Term and vote to persist, when they changed. */
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
  /** Present when role, term or leader changed since the previous Ready. */
  readonly softState: SoftState | null;
}
