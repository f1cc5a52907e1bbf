import type { RaftError } from '../core/index.js';
import { unwatchAbort, watchAbort, type AbortWatcher } from './abort-watch.js';
import type { DeadlineOwner, Deadlines } from './deadlines.js';
import type { CancelReason } from './node-errors.js';

/**
 * One caller's promise, settled exactly once: by its answer, by an error, by its deadline or by
 * its AbortSignal. What a deadline or an abort means depends on how far the request got, so each
 * kind of request says it in {@link CallerPromise.cancelError}. Deadlines share the node's
 * {@link Deadlines} (one timer for all requests).
 */
export abstract class CallerPromise<T> implements DeadlineOwner, AbortWatcher {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  /** Its signal had aborted before the call: it must never start. */
  #abortedAtStart = false;
  readonly #deadlines: Deadlines;
  readonly #deadlineKey: number;
  #signal: AbortSignal | null = null;

  constructor(deadlines: Deadlines, timeoutMs: number, signal: AbortSignal | undefined) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal !== undefined) {
      if (signal.aborted) {
        // Settle on the next turn so the caller's promise is observed before it rejects; until
        // then it counts as settled, so a flush in between does not send it on.
        this.#abortedAtStart = true;
        queueMicrotask(() => this.#cancel('aborted'));
      } else {
        this.#signal = signal;
        watchAbort(signal, this);
      }
    }
    this.#deadlines = deadlines;
    this.#deadlineKey = deadlines.add(this, timeoutMs);
  }

  /** The error the caller gets when its deadline passes or its signal aborts first. */
  protected abstract cancelError(reason: CancelReason): RaftError;

  /** The caller's signal aborted (called through {@link watchAbort}): rejects unless settled. */
  aborted(): void {
    this.#signal = null;
    this.#cancel('aborted');
  }

  /** The deadline passed (called by {@link Deadlines}): rejects unless already settled. */
  expire(): void {
    this.#cancel('timeout');
  }

  #cancel(reason: CancelReason): void {
    if (!this.#settled) this.reject(this.cancelError(reason));
  }

  /** Settled, or bound to reject because its signal had aborted before the call. */
  get settled(): boolean {
    return this.#settled || this.#abortedAtStart;
  }

  resolve(value: T): void {
    if (this.#finish()) this.#resolve(value);
  }

  reject(error: unknown): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#deadlines.remove(this, this.#deadlineKey);
    if (this.#signal !== null) unwatchAbort(this.#signal, this);
    return true;
  }
}

/** A {@link CallerPromise} whose owner supplies `onCancel` to turn a cancellation into an error. */
export class PendingRequest<T> extends CallerPromise<T> {
  readonly #onCancel: (reason: CancelReason) => RaftError;

  constructor(options: {
    deadlines: Deadlines;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    onCancel: (reason: CancelReason) => RaftError;
  }) {
    super(options.deadlines, options.timeoutMs, options.signal);
    this.#onCancel = options.onCancel;
  }

  protected override cancelError(reason: CancelReason): RaftError {
    return this.#onCancel(reason);
  }
}
