import { invariant, RaftError } from '../../core/errors.js';
import type { Operation, ProcessId } from './operation.js';

/** Options for {@link HistoryRecorder}. */
export interface HistoryRecorderOptions {
  /**
   * The clock stamping calls and returns, in milliseconds. Pass the simulator's virtual clock so
   * the history lines up with its trace; `performance.now` by default.
   */
  readonly now?: () => number;
  /** Most operations recorded; one more throws `BUSY` rather than silently drop history. */
  readonly operationsMax?: number;
}

/** Defaults for {@link HistoryRecorderOptions}. */
export const historyRecorderDefaults = Object.freeze({ operationsMax: 1_000_000 });

/** The caller's handle on one operation in flight: complete it once, or leave it pending. */
export interface OperationHandle<Output> {
  /** The system answered `output`. */
  ok(output: Output): void;
  /** The system definitely refused the operation, so it had no effect. */
  fail(): void;
}

interface RecordedOperation<Input, Output> {
  readonly process: ProcessId;
  readonly input: Input;
  readonly callTime: number;
  outcome:
    | { readonly status: 'ok'; readonly output: Output; readonly returnTime: number }
    | { readonly status: 'fail'; readonly returnTime: number }
    | null;
}

/**
 * Records the operations test clients issue against a system, as they happen, for
 * {@link checkLinearizability}:
 *
 * ```ts
 * const operation = recorder.invoke('client-1', { kind: 'put', key: 'x', value: '1' });
 * try {
 *   await store.put('x', '1');
 *   operation.ok(null);
 * } catch (error) {
 *   if (definitelyRefused(error)) operation.fail();
 * }
 * ```
 *
 * An operation that is neither `ok` nor `fail` (a timeout, a crashed client, an unknown outcome)
 * stays pending: the checker lets it take effect at any time after its call, or never. Call
 * `invoke` before sending the request and `ok` after the answer arrives, so that the recorded
 * interval contains the moment the system acted.
 */
export class HistoryRecorder<Input, Output> {
  readonly #now: () => number;
  readonly #operationsMax: number;
  readonly #operations: RecordedOperation<Input, Output>[] = [];

  constructor(options: HistoryRecorderOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#operationsMax = options.operationsMax ?? historyRecorderDefaults.operationsMax;
    if (!Number.isInteger(this.#operationsMax) || this.#operationsMax < 1) {
      throw new RaftError('INVALID_CONFIG', 'operationsMax must be a positive integer');
    }
  }

  /** Number of operations recorded so far. */
  get size(): number {
    return this.#operations.length;
  }

  /** Records the call of an operation now and returns the handle that completes it. */
  invoke(process: ProcessId, input: Input): OperationHandle<Output> {
    if (this.#operations.length >= this.#operationsMax) {
      throw new RaftError('BUSY', `history recorder is full (${this.#operationsMax} operations)`, {
        details: { operationsMax: this.#operationsMax },
      });
    }
    const recorded: RecordedOperation<Input, Output> = {
      process,
      input,
      callTime: this.#now(),
      outcome: null,
    };
    this.#operations.push(recorded);
    return {
      ok: (output) => {
        recorded.outcome = { status: 'ok', output, returnTime: this.#returnTime(recorded) };
      },
      fail: () => {
        recorded.outcome = { status: 'fail', returnTime: this.#returnTime(recorded) };
      },
    };
  }

  /** The history so far, in call order; operations still in flight are pending. */
  operations(): Operation<Input, Output>[] {
    return this.#operations.map((recorded): Operation<Input, Output> => {
      const call = {
        process: recorded.process,
        input: recorded.input,
        callTime: recorded.callTime,
      };
      return recorded.outcome === null
        ? { ...call, status: 'pending' }
        : { ...call, ...recorded.outcome };
    });
  }

  /** Forgets every operation, for reusing the recorder in the next run. */
  clear(): void {
    this.#operations.length = 0;
  }

  #returnTime(recorded: RecordedOperation<Input, Output>): number {
    invariant(recorded.outcome === null, 'an operation is completed at most once');
    const returnTime = this.#now();
    invariant(returnTime >= recorded.callTime, 'the clock does not go backwards');
    return returnTime;
  }
}
