import { onMicrotask } from '../platform/microtask.js';

/**
 * Collects what callers queue during one turn of the event loop and hands it over in one piece on
 * the next microtask, so everything proposed (or read, or forwarded) in the same turn shares one
 * append, one confirmation round or one message.
 */
export class TurnBatch<T> {
  #items: T[] = [];
  #scheduled = false;
  readonly #drain: (items: T[]) => void;

  /** `drain` receives the turn's items, oldest first; it runs once per turn that queued any. */
  constructor(drain: (items: T[]) => void) {
    this.#drain = drain;
  }

  /** Items queued and not yet drained. */
  get length(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    onMicrotask(() => {
      this.#scheduled = false;
      this.#drain(this.take());
    });
  }

  /** Takes every item not yet drained, for an owner that must refuse them now (stop, lost office). */
  take(): T[] {
    // The array itself is handed over and a new one started: `splice(0)` would copy up to
    // thousands of items per turn into a new array and leave the old one to shrink.
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
