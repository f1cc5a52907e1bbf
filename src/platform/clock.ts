/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
  /**
   * Optional: whether the timer keeps the process alive while it waits (it does at first). A
   * clock without a process to keep alive, such as a simulated one, leaves it out.
   */
  keepAlive?(keep: boolean): void;
}

/**
 * Time for the runtime. Injected so that tests and the simulator can run on virtual time and replay
 * exactly; production uses {@link realClock}.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  /** Runs `callback` once, no earlier than `delayMs` from now. */
  schedule(delayMs: number, callback: () => void): TimerHandle;
}

// Handles are small classes rather than closures: every request's deadline makes one.
class ImmediateHandle implements TimerHandle {
  readonly #immediate: NodeJS.Immediate;
  constructor(immediate: NodeJS.Immediate) {
    this.#immediate = immediate;
  }
  cancel(): void {
    clearImmediate(this.#immediate);
  }
  keepAlive(keep: boolean): void {
    if (keep) this.#immediate.ref();
    else this.#immediate.unref();
  }
}

class TimeoutHandle implements TimerHandle {
  readonly #timeout: NodeJS.Timeout;
  constructor(timeout: NodeJS.Timeout) {
    this.#timeout = timeout;
  }
  cancel(): void {
    clearTimeout(this.#timeout);
  }
  keepAlive(keep: boolean): void {
    if (keep) this.#timeout.ref();
    else this.#timeout.unref();
  }
}

function now(): number {
  return performance.now();
}

/**
 * The process's monotonic clock and Node's timers. Timers keep the process alive, like any pending
 * work: a running node is work; `stop()` cancels them.
 */
export const realClock: Clock = Object.freeze({
  now,
  schedule(delayMs: number, callback: () => void): TimerHandle {
    // setTimeout(0) waits at least a millisecond; "as soon as possible" must not.
    if (delayMs <= 0) return new ImmediateHandle(setImmediate(callback));
    return new TimeoutHandle(setTimeout(callback, delayMs));
  },
});
