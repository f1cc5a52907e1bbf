import type { NodeId } from '../../core/types.js';
import type { Message, MessageHandler, Transport } from '../../transport/transport.js';

/**
 * A node's place on the network, which outlives its processes: messages still in flight when a
 * process crashes may reach the next one if they arrive after it started (as datagrams or a queue
 * would), or are lost when the crash also resets the endpoint (as a TCP connection would be).
 */
export class NodeEndpoint {
  readonly #inner: Transport;
  #handler: MessageHandler | null = null;
  #registered = false;

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  /** Hands arriving messages to `handler` (registering on the network first if needed). */
  async attach(self: NodeId, handler: MessageHandler): Promise<void> {
    this.#handler = handler;
    if (this.#registered) return;
    this.#registered = true;
    await this.#inner.start(self, (message) => this.#handler?.(message));
  }

  /** Stops handing messages on; with `reset` also leaves the network, losing what is in flight. */
  async detach(handler: MessageHandler, reset: boolean): Promise<void> {
    if (this.#handler === handler) this.#handler = null;
    if (!reset || !this.#registered) return;
    this.#registered = false;
    await this.#inner.stop();
  }

  /** Sends through the network. */
  send(message: Message): void {
    this.#inner.send(message);
  }
}

/**
 * One process incarnation's network endpoint. A crash closes it at once: nothing the dead process
 * still tries to send leaves, and nothing more reaches it, even from promise chains that were
 * already under way when it died.
 */
export class GatedTransport implements Transport {
  readonly #endpoint: NodeEndpoint;
  readonly #onReceived: (message: Message) => void;
  #handler: MessageHandler | null = null;
  #closed = false;

  /** `onReceived` runs right after the node handled a message, so it sees the node's new state. */
  constructor(endpoint: NodeEndpoint, onReceived: (message: Message) => void = () => undefined) {
    this.#endpoint = endpoint;
    this.#onReceived = onReceived;
  }

  start(self: NodeId, handler: MessageHandler): Promise<void> {
    this.#handler = (message) => {
      if (this.#closed) return;
      handler(message);
      this.#onReceived(message);
    };
    return this.#endpoint.attach(self, this.#handler);
  }

  send(message: Message): void {
    if (!this.#closed) this.#endpoint.send(message);
  }

  stop(): Promise<void> {
    return this.#handler === null ? Promise.resolve() : this.#endpoint.detach(this.#handler, true);
  }

  /**
   * Cuts the process off for good. With `reset` the endpoint leaves the network and what was in
   * flight to it is lost; without, messages that arrive after a restart reach the new process.
   */
  async close(reset: boolean): Promise<void> {
    this.#closed = true;
    if (this.#handler !== null) await this.#endpoint.detach(this.#handler, reset);
  }
}
