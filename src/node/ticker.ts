import { coreDefaults } from '../core/index.js';
import type { Clock, TimerHandle } from '../platform/clock.js';

/**
 * Ticks at a steady rate of the clock. A tick that comes late, because the event loop was busy
 * (a restore, a long apply, a starved process), is followed at once by the ticks that fell due
 * meanwhile, rather than pushing every later tick back. Counting ticks is how the core measures
 * time, so late ticks would stretch it: an election timeout would last longer than it says, and,
 * worse, a leader's lease would outlive the election timeout it is derived from while the
 * followers' clocks run on. Catching up keeps the ticks in step with the clock, whatever the load.
 */
export class Ticker {
  readonly #clock: Clock;
  readonly #tickMs: number;
  /** Most ticks run at once after a delay; those beyond are skipped (see {@link Ticker.start}). */
  readonly #burstMax: number;
  readonly #onTicks: (ticks: number) => void;
  #origin = 0;
  /** Ticks run or skipped since {@link Ticker.start}. */
  #counted = 0;
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(options: {
    readonly clock: Clock;
    readonly tickMs: number;
    readonly burstMax: number;
    /** Runs the ticks that are due, one or more. */
    readonly onTicks: (ticks: number) => void;
  }) {
    this.#clock = options.clock;
    this.#tickMs = options.tickMs;
    this.#burstMax = options.burstMax;
    this.#onTicks = options.onTicks;
  }

  /**
   * Starts ticking every `tickMs` from now. After a delay longer than `burstMax` ticks, only
   * `burstMax` are run: with that many an election timeout or a lease has run out anyway, and a
   * long pause does not turn into a long loop.
   */
  start(): void {
    this.stop();
    this.#running = true;
    this.#origin = this.#clock.now();
    this.#counted = 0;
    this.#scheduleNext();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = null;
  }

  #scheduleNext(): void {
    const nextAt = this.#origin + (this.#counted + 1) * this.#tickMs;
    this.#timer = this.#clock.schedule(Math.max(0, nextAt - this.#clock.now()), () => {
      this.#timer = null;
      const elapsed = Math.floor((this.#clock.now() - this.#origin) / this.#tickMs);
      const due = Math.max(1, elapsed - this.#counted);
      this.#counted += due;
      this.#onTicks(Math.min(due, this.#burstMax));
      // The ticks may have stopped the ticker (a failure, a stop).
      if (this.#running) this.#scheduleNext();
    });
  }
}

/**
 * A node's ticker: its clock and `tickMs`, and bursts of up to one election timeout, enough for
 * any lease or election timeout to run out after a stall.
 */
export function nodeTicker(
  options: {
    readonly clock: Clock;
    readonly tickMs: number;
    readonly core: { readonly electionTicks?: number };
  },
  onTicks: (ticks: number) => void,
): Ticker {
  const burstMax = options.core.electionTicks ?? coreDefaults.electionTicks;
  return new Ticker({ clock: options.clock, tickMs: options.tickMs, burstMax, onTicks });
}
