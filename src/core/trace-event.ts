import type { NodeId } from './types.js';
import type { RaftMessage } from './messages.js';
import type { Role } from './configuration.js';

/** One notable step of a core, for traces and logs. The core never formats or prints these. */
export type CoreTraceEvent =
  | { readonly kind: 'role'; readonly id: NodeId; readonly role: Role; readonly term: number }
  | { readonly kind: 'commit'; readonly id: NodeId; readonly commit: number }
  | {
      readonly kind: 'ignored';
      readonly id: NodeId;
      readonly message: RaftMessage;
      readonly reason: string;
    };
