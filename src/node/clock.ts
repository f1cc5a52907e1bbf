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

/** The process's monotonic clock and Node's timers. Timers do not keep the process alive. */
export const realClock: Clock = Object.freeze({
  now: () => performance.now(),
  schedule(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
});
