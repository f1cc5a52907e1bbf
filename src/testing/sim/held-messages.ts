import type { Message } from '../../transport/transport.js';

/** Messages held back at most; beyond it they are dropped (a test that forgot to release). */
export const heldMessagesMax = 100_000;

/**
 * Messages a test holds back from the network to deliver or drop by hand later: the way to stage
 * an exact interleaving ("deliver the vote, lose the append"). Bounded by {@link heldMessagesMax}.
 */
export class HeldMessages {
  #held: Message[] = [];
  #filter: ((message: Message) => boolean) | null = null;
  #releasing = false;

  /** Whether new messages are being held (a filter is set). */
  get holding(): boolean {
    return this.#filter !== null;
  }

  /** Holds every later message `filter` accepts; `null` stops holding new ones. */
  setFilter(filter: ((message: Message) => boolean) | null): void {
    this.#filter = filter;
  }

  /** The messages held so far, oldest first. */
  messages(): readonly Message[] {
    return this.#held;
  }

  /**
   * Whether to hold `message` instead of sending it; holds it if so. Messages being released are
   * never held again, and beyond the bound a message is neither held nor sent.
   */
  intercept(message: Message): 'held' | 'lost' | 'pass' {
    if (this.#releasing || this.#filter?.(message) !== true) return 'pass';
    if (this.#held.length >= heldMessagesMax) return 'lost';
    this.#held.push(message);
    return 'held';
  }

  /** Removes the held messages `filter` accepts and passes each to `send`; returns how many. */
  release(filter: (message: Message) => boolean, send: (message: Message) => void): number {
    const chosen = this.take(filter);
    this.#releasing = true;
    try {
      for (const message of chosen) send(message);
    } finally {
      this.#releasing = false;
    }
    return chosen.length;
  }

  /** Removes and returns the held messages `filter` accepts. */
  take(filter: (message: Message) => boolean): Message[] {
    const chosen = this.#held.filter(filter);
    this.#held = this.#held.filter((message) => !filter(message));
    return chosen;
  }
}
