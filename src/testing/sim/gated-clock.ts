import type { Clock, TimerHandle } from '../../platform/clock.js';

/** Timers one process incarnation may hold at once; a runaway node trips it instead of the heap. */
export const gatedClockTimersMax = 1_000_000;

/**
 * One process incarnation's view of the simulator's clock. When the process crashes, {@link close}
 * cancels every timer it still has, so a dead node never wakes up again, and later requests are
 * ignored. Each timer carries a label (`tick`, `disk`, …) so a step can say what it ran.
 *
 * A `rate` other than 1 makes the node's clock drift: it reads `rate` ms per simulated ms, and a
 * timer it sets for `d` ms fires after `d / rate` simulated ms (a fast clock fires early). Timers
 * the simulator sets on the process's behalf ({@link scheduleLabelled}) run on simulated time.
 */
export class GatedClock implements Clock {
  readonly #inner: Clock;
  readonly #label: string;
  readonly #onFire: (label: string) => void;
  readonly #rate: number;
  readonly #live = new Set<TimerHandle>();
  #closed = false;

  constructor(options: {
    inner: Clock;
    label: string;
    onFire: (label: string) => void;
    /** How fast this clock runs against the simulator's; default 1. */
    rate?: number;
  }) {
    const rate = options.rate ?? 1;
    if (!Number.isFinite(rate) || rate <= 0) {
      throw new RangeError(`clock rate must be a positive number, got ${rate}`);
    }
    this.#inner = options.inner;
    this.#label = options.label;
    this.#onFire = options.onFire;
    this.#rate = rate;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  now(): number {
    return this.#inner.now() * this.#rate;
  }

  schedule(delayMs: number, callback: () => void): TimerHandle {
    return this.scheduleLabelled(this.#label, delayMs / this.#rate, callback);
  }

  /** Schedules with its own label, for timers the simulator sets on the process's behalf. */
  scheduleLabelled(label: string, delayMs: number, callback: () => void): TimerHandle {
    if (this.#closed || this.#live.size >= gatedClockTimersMax) return { cancel: () => undefined };
    const handle = this.#inner.schedule(delayMs, () => {
      this.#live.delete(outer);
      if (this.#closed) return;
      this.#onFire(label);
      callback();
    });
    const outer: TimerHandle = {
      cancel: () => {
        this.#live.delete(outer);
        handle.cancel();
      },
    };
    this.#live.add(outer);
    return outer;
  }

  /** Cancels every pending timer and ignores later ones: the process is gone. */
  close(): void {
    this.#closed = true;
    for (const handle of [...this.#live]) handle.cancel();
    this.#live.clear();
  }
}
