// The messages servers exchange live beside the codec that writes them, so that the codec and
// every transport can take them without importing each other.
import type {
  Configuration,
  NodeId,
  RaftErrorCode,
  RaftMessage,
  RequestOutcome,
} from '../core/index.js';

/**
 * A proposal a follower forwards to the leader on behalf of its caller (`forwardProposals`).
 * `requestId` is chosen by the sender and echoed in the result.
 */
export interface ForwardProposal {
  readonly type: 'forward-proposal';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly requestId: number;
  readonly commands: readonly Uint8Array[];
  /** The commands that belong to client sessions, by position in `commands`; absent when none. */
  readonly sessions?: readonly ForwardedSession[];
}

/**
 * What a proposal says about its client session (docs/sessions.md), before the leader stamps it
 * into the log: a registration, or a numbered command of a session.
 */
export type SessionTag =
  | { readonly kind: 'register' }
  | {
      readonly kind: 'command';
      readonly sessionId: number;
      readonly sequence: number;
      /** The client holds the answers of every sequence below this one. */
      readonly lowestUnacknowledged: number;
    };

/** A forwarded command's session, with the command's position in the message. */
export type ForwardedSession = SessionTag & { readonly position: number };

/**
 * What became of one forwarded command, exactly as the leader's own caller would have seen it:
 * the state machine's encoded result, or the error. Each command has its own outcome because the
 * leader may append a batch in several parts, and one part can be refused while another commits.
 */
export type ForwardOutcome =
  | { readonly status: 'applied'; readonly result: Uint8Array }
  | {
      readonly status: 'failed';
      readonly code: RaftErrorCode;
      readonly message: string;
      /**
       * What the failure did to the command, as the leader knows it: the follower's caller needs it
       * to tell a refused command (safe to send again) from one that may have applied.
       */
      readonly outcome: RequestOutcome;
      /** The application's code when the state machine rejected the command, otherwise null. */
      readonly reason: string | null;
    };

/**
 * The leader's answer to a forwarded proposal: one outcome per command, in the order of
 * `commands`, with the leader this server knows as a hint for the follower.
 */
export interface ForwardResult {
  readonly type: 'forward-result';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly requestId: number;
  readonly outcomes: readonly ForwardOutcome[];
  readonly leaderId: NodeId | null;
}

/**
 * A server started in join mode with empty storage asks a member about the cluster. The member
 * answers with the leader and configuration it knows, or refuses a server that is a voter already:
 * with empty storage it may have forgotten a vote it cast (see `DATA_LOST`).
 */
export interface JoinRequest {
  readonly type: 'join-request';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly requestId: number;
}

/** The answer to a {@link JoinRequest}: what the member knows, or why the server may not join. */
export interface JoinResponse {
  readonly type: 'join-response';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly requestId: number;
  readonly leaderId: NodeId | null;
  /** The configuration in force at the member; null when it knows none yet. */
  readonly configuration: Configuration | null;
  readonly errorCode: string | null;
  readonly errorMessage: string;
}

/**
 * Everything that travels between servers: Raft's own messages plus the runtime's forwarding and
 * join handshake.
 */
export type Message = RaftMessage | ForwardProposal | ForwardResult | JoinRequest | JoinResponse;

/** Whether a message belongs to the runtime (forwarding, joining) rather than to Raft itself. */
export function isRuntimeMessage(
  message: Message,
): message is ForwardProposal | ForwardResult | JoinRequest | JoinResponse {
  return (
    message.type === 'forward-proposal' ||
    message.type === 'forward-result' ||
    message.type === 'join-request' ||
    message.type === 'join-response'
  );
}
