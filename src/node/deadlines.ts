import type { Clock, TimerHandle } from '../platform/clock.js';
import { MinHeap } from '../platform/min-heap.js';

/** Something that waits with a deadline: `expire` runs once it passes, unless removed first. */
export interface DeadlineOwner {
  expire(): void;
}

/**
 * The deadlines of a node's requests, on one clock timer instead of one per request: every
 * proposal has a deadline, so at hundreds of thousands of proposals per second a timer each
 * (its handle, its callback and its place in the timer list, set and cleared) was a measurable
 * part of the runtime's cost.
 *
 * Deadlines are rounded up to the whole millisecond, so requests made in the same millisecond
 * with the same timeout share a bucket; an owner never expires before its deadline and at most a
 * millisecond after it. The buckets' keys wait in a min-heap; a bucket emptied by removals stays
 * (empty) until its time, so the heap holds at most one key per millisecond of the longest
 * timeout in use.
 */
export class Deadlines {
  readonly #clock: Clock;
  readonly #buckets = new Map<number, Set<DeadlineOwner>>();
  /** Keys of `#buckets`, earliest first. */
  readonly #keys = new MinHeap<number>((a, b) => a < b);
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;
  /** Owners waiting: when none is left, the timer goes too (it must not keep a process alive). */
  #size = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Expires `owner` once `delayMs` have passed; returns the key that {@link remove} needs. */
  add(owner: DeadlineOwner, delayMs: number): number {
    const key = Math.ceil(this.#clock.now() + delayMs);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.#buckets.set(key, bucket);
      this.#keys.push(key);
      if (key < this.#timerAt) this.#arm(key);
    }
    bucket.add(owner);
    this.#size++;
    return key;
  }

  /** Forgets `owner`, added with `key`: it will not expire. */
  remove(owner: DeadlineOwner, key: number): void {
    if (this.#buckets.get(key)?.delete(owner) !== true) return;
    if (--this.#size === 0) this.#clear();
  }

  /** Owners waiting, for tests and diagnostics. */
  get size(): number {
    return this.#size;
  }

  #clear(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Infinity;
    this.#buckets.clear();
    this.#keys.clear();
  }

  #arm(key: number): void {
    this.#timer?.cancel();
    this.#timerAt = key;
    this.#timer = this.#clock.schedule(key - this.#clock.now(), () => this.#fire());
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    for (let key = this.#keys.peek(); key !== undefined && key <= now; key = this.#keys.peek()) {
      this.#keys.pop();
      const bucket = this.#buckets.get(key);
      if (bucket === undefined) continue;
      this.#buckets.delete(key);
      this.#size -= bucket.size;
      // An owner's expiry may add new deadlines; those go into new buckets.
      for (const owner of bucket) owner.expire();
    }
    // Buckets emptied by removals need no wake-up.
    for (let key = this.#keys.peek(); key !== undefined; key = this.#keys.peek()) {
      if (this.#buckets.get(key)?.size !== 0) break;
      this.#buckets.delete(key);
      this.#keys.pop();
    }
    const next = this.#keys.peek();
    if (next !== undefined && next < this.#timerAt) this.#arm(next);
  }
}
