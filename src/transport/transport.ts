import type { NodeId } from '../core/index.js';
import type { Message } from '../codec/index.js';

// Message types live beside the codec that writes them; transports and their users get them here.
export type * from '../codec/messages.js';

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
