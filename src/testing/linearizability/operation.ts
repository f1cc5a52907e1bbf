/** Who issued an operation: a client that waits for each operation before starting the next. */
export type ProcessId = number | string;

interface OperationBase<Input> {
  /** The client that issued the operation; a label for explanations, not used by the search. */
  readonly process: ProcessId;
  /** What the client asked the system to do. */
  readonly input: Input;
  /** When the client sent the request, on any monotonic scale (real or virtual milliseconds). */
  readonly callTime: number;
}

/** An operation whose response the client received: it took effect between call and return. */
export interface CompletedOperation<Input, Output> extends OperationBase<Input> {
  readonly status: 'ok';
  /** What the system answered. */
  readonly output: Output;
  /** When the client received the response; not earlier than `callTime`. */
  readonly returnTime: number;
}

/**
 * An operation whose outcome is unknown: the client crashed, timed out or gave up (`:info` in
 * Jepsen). It may have taken effect at any moment after its call, or never.
 */
export interface PendingOperation<Input> extends OperationBase<Input> {
  readonly status: 'pending';
}

/**
 * An operation the system definitely refused (`:fail` in Jepsen). It had no effect, so the checker
 * leaves it out; it stays in the history so that explanations and traces can show it.
 */
export interface FailedOperation<Input> extends OperationBase<Input> {
  readonly status: 'fail';
  readonly returnTime: number;
}

/** One client operation in a history. */
export type Operation<Input, Output> =
  CompletedOperation<Input, Output> | PendingOperation<Input> | FailedOperation<Input>;

/** Operations issued by concurrent clients, in any order: the checker orders them by time. */
export type History<Input, Output> = readonly Operation<Input, Output>[];
