import type { Operation } from './operation.js';

/** The outcome of applying one operation to a sequential model. */
export interface StepResult<State> {
  /** Whether the operation, with the output the client saw, is possible in `state`. */
  readonly ok: boolean;
  /** The state after the operation; ignored when `ok` is false. */
  readonly state: State;
}

/**
 * A sequential specification: what a single copy of the system, running one operation at a time,
 * would do. States must be treated as immutable values, because the checker keeps old states to
 * backtrack to.
 */
export interface SequentialModel<State, Input, Output> {
  /** The state before any operation. */
  init(): State;
  /** Applies a completed operation: is `output` what the system could answer in `state`? */
  step(state: State, input: Input, output: Output): StepResult<State>;
  /**
   * Applies an operation whose output nobody saw (a pending operation that the checker decides
   * took effect). Returns the state after it.
   */
  stepPending(state: State, input: Input): State;
  /**
   * A string that is equal for equal states. The checker uses it to remember which (operations,
   * state) pairs it has already explored; without {@link SequentialModel.equal} it must identify the state
   * exactly.
   */
  hash(state: State): string;
  /** Exact equality for states whose hashes collide; when absent, equal hashes mean equal states. */
  equal?(left: State, right: State): boolean;
  /**
   * Splits a history into independent sub-histories (for example one per key). A history is
   * linearizable exactly when every sub-history is, and small sub-histories are far cheaper to
   * check. Only split where operations in different parts can never affect each other.
   */
  partition?(
    operations: readonly Operation<Input, Output>[],
  ): ReadonlyMap<string, readonly Operation<Input, Output>[]>;
  /** One line naming an operation in explanations; JSON of input and output when absent. */
  describeOperation?(operation: Operation<Input, Output>): string;
  /** One line showing a state in explanations; the hash when absent. */
  describeState?(state: State): string;
}

/**
 * Groups operations by a key, keeping their order: the usual {@link SequentialModel.partition} for a store
 * whose keys are independent.
 */
export function partitionByKey<Input, Output>(
  operations: readonly Operation<Input, Output>[],
  keyOf: (operation: Operation<Input, Output>) => string,
): Map<string, Operation<Input, Output>[]> {
  const partitions = new Map<string, Operation<Input, Output>[]>();
  for (const operation of operations) {
    const key = keyOf(operation);
    const partition = partitions.get(key);
    if (partition === undefined) partitions.set(key, [operation]);
    else partition.push(operation);
  }
  return partitions;
}
