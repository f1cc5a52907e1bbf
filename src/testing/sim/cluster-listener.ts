import { RaftError } from '../../core/errors.js';
import type { NodeId } from '../../core/types.js';
import type { Message } from '../../transport/transport.js';

/** Listens to what happens in a {@link SimCluster}. */
export interface SimClusterListener {
  /** A message was sent (before the network decides its fate). */
  readonly onSend?: (message: Message) => void;
  /** A node's process died (crash or failed write); its callers will never hear back. */
  readonly onProcessDied?: (nodeId: NodeId) => void;
}

/** The most listeners at once; tests add a few, a leak trips this. */
export const listenersMax = 1000;

/** The listeners of one cluster, bounded so that a leak fails loudly instead of slowing runs. */
export class ClusterListeners {
  readonly #listeners = new Set<SimClusterListener>();

  /** Calls `listener`'s hooks until the returned function is called. */
  add(listener: SimClusterListener): () => void {
    if (this.#listeners.size >= listenersMax) {
      throw new RaftError('BUSY', `more than ${listenersMax} cluster listeners`);
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Tells every listener that `message` was sent. */
  sent(message: Message): void {
    for (const listener of this.#listeners) listener.onSend?.(message);
  }

  /** Tells every listener that `nodeId`'s process died. */
  processDied(nodeId: NodeId): void {
    for (const listener of this.#listeners) listener.onProcessDied?.(nodeId);
  }
}
