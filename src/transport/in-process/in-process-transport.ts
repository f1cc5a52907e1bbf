import { RaftError } from '../../core/index.js';
import type { NodeId } from '../../core/index.js';
import type { Message, MessageHandler, Transport } from '../transport.js';

/** What a transport may ask of its network; kept off the network's public surface. */
export interface NetworkPort {
  /** False when another running transport already uses the id. */
  register(self: NodeId, handler: MessageHandler): boolean;
  unregister(self: NodeId): void;
  accept(self: NodeId | null, message: Message): void;
}

/** One server's endpoint on an {@link InProcessNetwork}. */
export class InProcessTransport implements Transport {
  readonly #network: NetworkPort;
  #self: NodeId | null = null;

  /** Not for direct use: {@link InProcessNetwork.transport} creates transports. */
  constructor(network: NetworkPort) {
    this.#network = network;
  }

  /** The id this transport was started as, or `null` when it is not running. */
  get self(): NodeId | null {
    return this.#self;
  }

  /** Joins the network as `self`. Rejects if another running transport already uses that id. */
  start(self: NodeId, handler: MessageHandler): Promise<void> {
    if (this.#self !== null) {
      return Promise.reject(new RaftError('INVALID_CONFIG', 'transport is already started'));
    }
    if (!this.#network.register(self, handler)) {
      return Promise.reject(
        new RaftError('INVALID_CONFIG', `node ${self} is already on this network`),
      );
    }
    this.#self = self;
    return Promise.resolve();
  }

  /**
   * Hands the message to the network. `message.from` must be this transport's id; anything sent
   * before `start` or after `stop`, or claiming another sender, is dropped and counted.
   */
  send(message: Message): void {
    this.#network.accept(this.#self, message);
  }

  /** Leaves the network; messages still in flight to this server are dropped. Idempotent. */
  stop(): Promise<void> {
    if (this.#self !== null) {
      this.#network.unregister(this.#self);
      this.#self = null;
    }
    return Promise.resolve();
  }
}
