import type { NodeId, RaftMessage } from '../core/index.js';

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
}

/**
 * The leader's answer to a forwarded proposal: either one encoded result per command, or an error
 * code with an optional leader hint, exactly as the leader's own caller would have seen it.
 */
export interface ForwardResult {
  readonly type: 'forward-result';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly requestId: number;
  readonly results: readonly Uint8Array[];
  readonly errorCode: string | null;
  readonly errorMessage: string;
  readonly leaderId: NodeId | null;
}

/** Everything that travels between servers: Raft's own messages plus the runtime's forwarding. */
export type Message = RaftMessage | ForwardProposal | ForwardResult;

/** Called for every message that arrives for this server. Must not throw. */
export type MessageHandler = (message: Message) => void;

/**
 * Moves one-way messages between servers. Delivery is best effort: a lost, duplicated, delayed or
 * reordered message is normal and Raft recovers from it, so `send` never throws for network
 * trouble; it drops and counts instead.
 */
export interface Transport {
  /** Begins accepting messages for `self`, handing each to `handler`. */
  start(self: NodeId, handler: MessageHandler): Promise<void>;
  /** Queues a message for `message.to`. Returns at once; never blocks on the network. */
  send(message: Message): void;
  /** Closes every connection and timer. Idempotent. */
  stop(): Promise<void>;
}
