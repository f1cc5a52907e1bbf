import type { Clock, TimerHandle } from '../platform/clock.js';
import { MinHeap } from '../platform/min-heap.js';

interface PendingTimer {
  readonly at: number;
  readonly sequence: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * Virtual time for tests and the simulator. Time moves only when the test says so; timers due at the
 * same instant fire in the order they were scheduled (a sequence number breaks ties), so a run
 * replays exactly.
 */
export class SimulatedClock implements Clock {
  #now: number;
  #sequence = 0;
  // Ordered by (at, sequence): the simulator schedules many timers per step.
  readonly #heap = new MinHeap<PendingTimer>(
    (a, b) => a.at < b.at || (a.at === b.at && a.sequence < b.sequence),
  );

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = {
      at: this.#now + Math.max(0, delayMs),
      sequence: this.#sequence++,
      callback,
      cancelled: false,
    };
    this.#heap.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** The time of the next live timer, or `null` if none is pending. */
  nextDeadline(): number | null {
    this.#dropCancelled();
    return this.#heap.peek()?.at ?? null;
  }

  /** Number of timers still pending (cancelled ones excluded once they reach the front). */
  get pendingCount(): number {
    this.#dropCancelled();
    return this.#heap.size;
  }

  /**
   * Fires the earliest pending timer, moving time to its deadline. Returns false when none is
   * pending. The caller decides how many steps to run, so no loop here is unbounded.
   */
  step(): boolean {
    this.#dropCancelled();
    const timer = this.#heap.pop();
    if (timer === undefined) return false;
    this.#now = Math.max(this.#now, timer.at);
    timer.callback();
    return true;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in order. Timers that
   * those callbacks schedule within the window fire too, up to `timersMax` callbacks in all.
   */
  advance(ms: number, timersMax = 1_000_000): number {
    const until = this.#now + ms;
    let fired = 0;
    for (;;) {
      const next = this.nextDeadline();
      if (next === null || next > until || fired >= timersMax) break;
      this.step();
      fired++;
    }
    this.#now = Math.max(this.#now, until);
    return fired;
  }

  #dropCancelled(): void {
    while (this.#heap.peek()?.cancelled === true) this.#heap.pop();
  }
}
