import type { Clock, TimerHandle } from '../platform/clock.js';
import { MinHeap } from '../platform/min-heap.js';

/** Something that waits with a deadline: `expire` runs once it passes, unless removed first. */
export interface DeadlineOwner {
  expire(): void;
}

/**
 * The owners whose deadline falls in one millisecond, in the order they were added. A removed
 * owner leaves a hole (null) rather than being spliced out: requests mostly settle in the order
 * they were made, so the search for it starts at `head`, past the holes in front, and usually
 * ends there. An array slot costs a fraction of a Set entry, whose table also shrinks and grows
 * again with every wave of requests.
 */
interface Bucket {
  readonly owners: (DeadlineOwner | null)[];
  /** Every slot before it is a hole. */
  head: number;
  /** Owners in the bucket that were not removed. */
  live: number;
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
 * (empty, holding no owner) until its time, so the heap holds at most one key per millisecond of
 * the longest timeout in use.
 *
 * When the last owner goes, the timer stops keeping the process alive but stays armed, where the
 * clock allows it (`TimerHandle.keepAlive`): one request at a time would otherwise set and clear
 * a timer per request, which was about a twentieth of the runtime's time with one proposal in
 * flight. Without `keepAlive` the timer is cancelled.
 */
export class Deadlines {
  readonly #clock: Clock;
  readonly #buckets = new Map<number, Bucket>();
  /** Keys of `#buckets`, earliest first. */
  readonly #keys = new MinHeap<number>((a, b) => a < b);
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;
  /** Owners waiting: while none is, the timer must not keep the process alive. */
  #size = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Expires `owner` once `delayMs` have passed; returns the key that {@link remove} needs. */
  add(owner: DeadlineOwner, delayMs: number): number {
    const key = Math.ceil(this.#clock.now() + delayMs);
    // The first owner after an idle spell: the timer that stayed armed counts again.
    if (this.#size++ === 0) this.#timer?.keepAlive?.(true);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { owners: [], head: 0, live: 0 };
      this.#buckets.set(key, bucket);
      this.#keys.push(key);
      if (key < this.#timerAt) this.#arm(key);
    }
    bucket.owners.push(owner);
    bucket.live++;
    return key;
  }

  /** Forgets `owner`, added with `key`: it will not expire. */
  remove(owner: DeadlineOwner, key: number): void {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return;
    const owners = bucket.owners;
    const position = owners.indexOf(owner, bucket.head);
    if (position === -1) return;
    owners[position] = null;
    if (--bucket.live === 0) {
      owners.length = 0;
      bucket.head = 0;
    } else {
      while (owners[bucket.head] === null) bucket.head++;
    }
    if (--this.#size > 0) return;
    if (this.#timer?.keepAlive === undefined) this.#clear();
    else this.#timer.keepAlive(false);
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
      this.#size -= bucket.live;
      // An owner's expiry may add new deadlines; those go into new buckets.
      for (const owner of bucket.owners) owner?.expire();
    }
    // Buckets emptied by removals need no wake-up.
    for (let key = this.#keys.peek(); key !== undefined; key = this.#keys.peek()) {
      if (this.#buckets.get(key)?.live !== 0) break;
      this.#buckets.delete(key);
      this.#keys.pop();
    }
    const next = this.#keys.peek();
    if (next !== undefined && next < this.#timerAt) this.#arm(next);
  }
}
