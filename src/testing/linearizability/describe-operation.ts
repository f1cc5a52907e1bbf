import type { SequentialModel } from './sequential-model.js';
import type { Operation } from './operation.js';

function formatTime(time: number): string {
  return Number.isInteger(time) ? String(time) : time.toFixed(3);
}

/**
 * One line for an operation in an explanation: the model's description (or JSON), then who issued
 * it and when, e.g. `get "x" -> "ab" (process 2, 14..19)`.
 */
export function describeOperation<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  operation: Operation<Input, Output>,
): string {
  const what =
    model.describeOperation?.(operation) ??
    (operation.status === 'ok'
      ? `${JSON.stringify(operation.input)} -> ${JSON.stringify(operation.output)}`
      : JSON.stringify(operation.input));
  const when =
    operation.status === 'pending'
      ? `${formatTime(operation.callTime)}.., pending`
      : `${formatTime(operation.callTime)}..${formatTime(operation.returnTime)}`;
  const failed = operation.status === 'fail' ? ', failed' : '';
  return `${what} (process ${operation.process}, ${when}${failed})`;
}

/** One line for a model state in an explanation. */
export function describeState<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  state: State,
): string {
  return model.describeState?.(state) ?? model.hash(state);
}
