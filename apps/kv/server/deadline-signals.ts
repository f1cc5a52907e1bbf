/**
 * AbortSignals for request deadlines, one per slice of time rather than one per request:
 * `AbortSignal.timeout` arms a timer and registers the signal for cleanup, which cost a write on
 * the server several times what the whole replicated write costs the runtime. Every request whose
 * deadline falls in the same slice shares the slice's signal, which aborts at the slice's start:
 * never after the deadline, at most one slice before it.
 */
export class DeadlineSignals {
  readonly #sliceMs: number;
  readonly #now: () => number;
  /** Live slices by number, oldest first (deadlines only move forward, so a Map keeps order). */
  readonly #slices = new Map<number, AbortSignal>();

  /** `now` is the clock deadlines are given on (`performance.now` unless a test passes another). */
  constructor(sliceMs: number, now: () => number = () => performance.now()) {
    this.#sliceMs = sliceMs;
    this.#now = now;
  }

  /** A signal that aborts at most one slice before `deadline`, and not after it. */
  until(deadline: number): AbortSignal {
    const now = this.#now();
    const slice = Math.floor(deadline / this.#sliceMs);
    this.#forgetBefore(Math.floor(now / this.#sliceMs));
    let signal = this.#slices.get(slice);
    if (signal === undefined) {
      signal = AbortSignal.timeout(Math.max(0, Math.floor(slice * this.#sliceMs - now)));
      this.#slices.set(slice, signal);
    }
    return signal;
  }

  /** Slices that have begun are aborted or about to be: new requests never get them again. */
  #forgetBefore(current: number): void {
    for (const slice of this.#slices.keys()) {
      if (slice > current) break;
      this.#slices.delete(slice);
    }
  }
}
