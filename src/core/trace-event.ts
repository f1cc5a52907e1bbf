import type { NodeId } from './types.js';
import type { RaftMessage } from './messages.js';
import type { Role } from './configuration.js';

/** One notable step of a core, for traces and logs. The core never formats or prints these. */
export type CoreTraceEvent =
  | { readonly kind: 'role'; readonly id: NodeId; readonly role: Role; readonly term: number }
  | { readonly kind: 'commit'; readonly id: NodeId; readonly commit: number }
  | {
      readonly kind: 'snapshot';
      readonly id: NodeId;
      /** The other server, or this one's own id for a local compaction or install. */
      readonly peer: NodeId;
      /**
       * `send`: a transfer to `peer` starts. `unavailable`: `peer` needs a snapshot and none is held.
       * `failed`: the runtime gave up on a transfer. `compact`: the log now starts after `index`.
       * `install`: a snapshot from the leader replaced the log up to `index`.
       */
      readonly event: 'send' | 'unavailable' | 'failed' | 'compact' | 'install';
      readonly index: number;
    }
  | {
      readonly kind: 'ignored';
      readonly id: NodeId;
      readonly message: RaftMessage;
      readonly reason: string;
    }
  /** The leader appended the configuration that leaves a committed joint one, at `index`. */
  | { readonly kind: 'leave-joint'; readonly id: NodeId; readonly index: number }
  /** A leader removed from the voters stepped down, handing over to `successor` if one was ready. */
  | { readonly kind: 'removed-leader'; readonly id: NodeId; readonly successor: NodeId | null }
  /** A peer's message failed validation and was dropped without changing anything. */
  | {
      readonly kind: 'invalid-message';
      readonly id: NodeId;
      readonly message: RaftMessage;
      readonly reason: string;
    };
