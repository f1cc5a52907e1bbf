/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
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

/**
 * The process's monotonic clock and Node's timers. Timers keep the process alive, like any pending
 * work: a running node is work; `stop()` cancels them.
 */
export const realClock: Clock = Object.freeze({
  now: () => performance.now(),
  schedule(delayMs: number, callback: () => void): TimerHandle {
    if (delayMs <= 0) {
      // setTimeout(0) waits at least a millisecond; "as soon as possible" must not.
      const immediate = setImmediate(callback);
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
});
