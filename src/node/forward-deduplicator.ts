import type { NodeId } from '../core/index.js';

/** How many forwarded request ids are remembered per sender. */
export const forwardIdsRememberedMax = 4096;

/**
 * Remembers recent forwarded request ids per sender, so a network that duplicates a message does
 * not make the leader propose the same command twice. Bounded: the oldest ids are forgotten first.
 */
export class ForwardDeduplicator {
  readonly #seen = new Map<NodeId, Set<number>>();
  readonly #sendersMax: number;

  constructor(sendersMax = 1024) {
    this.#sendersMax = sendersMax;
  }

  /** True the first time `(from, requestId)` is seen. */
  firstTime(from: NodeId, requestId: number): boolean {
    let ids = this.#seen.get(from);
    if (ids === undefined) {
      if (this.#seen.size >= this.#sendersMax) {
        const oldest = this.#seen.keys().next().value;
        if (oldest !== undefined) this.#seen.delete(oldest);
      }
      ids = new Set();
      this.#seen.set(from, ids);
    }
    if (ids.has(requestId)) return false;
    ids.add(requestId);
    if (ids.size > forwardIdsRememberedMax) {
      // Sets iterate in insertion order: the first is the oldest.
      const oldest = ids.values().next().value;
      if (oldest !== undefined) ids.delete(oldest);
    }
    return true;
  }
}
