import { invariant, RaftError } from '../../core/errors.js';
import { describeOperation, describeState } from './describe-operation.js';
import type { SequentialModel } from './sequential-model.js';
import type { History, Operation } from './operation.js';
import { SearchBudget, type SearchStopReason } from './search-budget.js';
import {
  PartitionSearch,
  type CheckedOperation,
  type PartitionOutcome,
  type SearchProgress,
} from './search-partition.js';

/** Defaults for {@link CheckLinearizabilityOptions}. */
export const linearizabilityCheckDefaults = Object.freeze({
  timeBudgetMs: 10_000,
  cacheEntriesMax: 2_000_000,
});

/** Limits for {@link checkLinearizability}. */
export interface CheckLinearizabilityOptions {
  /**
   * Time after which the check gives up and answers `unknown`, shared by all partitions. The search
   * is exponential in the worst case, so a limit is always in force; default 10 seconds.
   */
  readonly timeBudgetMs?: number;
  /** Most (operations, state) pairs one partition's search remembers before answering `unknown`. */
  readonly cacheEntriesMax?: number;
  /** Clock for the budget, in milliseconds; `performance.now` by default. */
  readonly now?: () => number;
}

/** The checker's answer. `unknown` means a limit ran out, not that the history is suspicious. */
export type LinearizabilityVerdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** What happened to one partition (sub-history) of the history. */
export interface PartitionReport {
  readonly key: string;
  /** Operations checked: completed and pending ones (failed operations are left out). */
  readonly operations: number;
  /**
   * `unknown` when its search was stopped by a limit, or was not finished because another
   * partition already failed (partitions are searched taking turns).
   */
  readonly verdict: LinearizabilityVerdict;
}

/** Why a partition is not linearizable: how far the search got, and what it could not place. */
export interface LinearizabilityExplanation<State, Input, Output> {
  /** The partition that failed. */
  readonly partition: string;
  /** The most operations the search could put in a valid order, in that order. */
  readonly longestPrefix: readonly Operation<Input, Output>[];
  /** The model state after {@link LinearizabilityExplanation.longestPrefix}. */
  readonly stateAfterPrefix: State;
  /** The operations that could have come next, none of which led to a valid order. */
  readonly candidates: readonly Operation<Input, Output>[];
}

interface ResultBase {
  /** Every partition, in the order the model's `partition` returned them. */
  readonly partitions: readonly PartitionReport[];
  /** Search steps taken, a measure of work that does not depend on the machine. */
  readonly steps: number;
  readonly elapsedMs: number;
  /** A short explanation for humans, for example in a test failure. */
  readonly message: string;
}

/** Every partition has a valid order. */
export interface LinearizableResult<Input, Output> extends ResultBase {
  readonly result: 'linearizable';
  /** One witness order per partition (pending operations that took effect included). */
  readonly linearizations: ReadonlyMap<string, readonly Operation<Input, Output>[]>;
}

/** Some partition has no valid order. */
export interface NotLinearizableResult<State, Input, Output> extends ResultBase {
  readonly result: 'not-linearizable';
  readonly partition: string;
  readonly explanation: LinearizabilityExplanation<State, Input, Output>;
}

/** A limit ran out before an answer was found. */
export interface UnknownLinearizabilityResult extends ResultBase {
  readonly result: 'unknown';
  readonly reason: SearchStopReason;
  /** Keys of the partitions without a verdict. */
  readonly unfinished: readonly string[];
}

/** The result of {@link checkLinearizability}. */
export type LinearizabilityResult<State, Input, Output> =
  | LinearizableResult<Input, Output>
  | NotLinearizableResult<State, Input, Output>
  | UnknownLinearizabilityResult;

const wholeHistoryKey = 'all';

/**
 * Decides whether a history of concurrent operations is linearizable with respect to a sequential
 * model: whether each operation can be given one instant between its call and its return so that,
 * in that order, the model produces every output the clients saw. Pending operations may take
 * effect at any instant after their call, or never; failed operations are ignored.
 *
 * The history is split with the model's `partition` and each part is checked on its own.
 */
export function checkLinearizability<State, Input, Output>(
  history: History<Input, Output>,
  model: SequentialModel<State, Input, Output>,
  options: CheckLinearizabilityOptions = {},
): LinearizabilityResult<State, Input, Output> {
  const timeBudgetMs = options.timeBudgetMs ?? linearizabilityCheckDefaults.timeBudgetMs;
  const cacheEntriesMax = options.cacheEntriesMax ?? linearizabilityCheckDefaults.cacheEntriesMax;
  validateLimits(timeBudgetMs, cacheEntriesMax);
  const checked = history.filter(isChecked);
  checked.forEach(validateOperation);
  const now = options.now ?? (() => performance.now());
  const startMs = now();
  const budget = new SearchBudget({ deadline: startMs + timeBudgetMs, now, cacheEntriesMax });
  const partitions = [...(model.partition?.(checked) ?? new Map([[wholeHistoryKey, checked]]))];
  const searches = partitions.map(([key, operations]) => {
    const partitionOperations = operations.filter(isChecked);
    return new CheckedPartition(key, partitionOperations, model, budget);
  });
  const outcome = runInTurns(searches);
  const reports = searches.map((search) => search.report());
  const summary = { partitions: reports, steps: budget.steps, elapsedMs: now() - startMs };
  if (outcome.verdict === 'not-linearizable') {
    const explanation = outcome.search.explain(outcome.progress);
    const message = formatExplanation(model, explanation, outcome.search.operations.length);
    return {
      result: 'not-linearizable',
      ...summary,
      partition: outcome.search.key,
      explanation,
      message,
    };
  }
  if (outcome.verdict === 'unknown') {
    const unfinished = reports
      .filter((report) => report.verdict === 'unknown')
      .map((report) => report.key);
    const limit =
      outcome.reason === 'time-budget'
        ? 'the time budget ran out'
        : 'the explored-state cache filled';
    const message = `no verdict: ${limit} after ${budget.steps} steps, ${unfinished.length} of ${reports.length} partitions unfinished`;
    return { result: 'unknown', ...summary, reason: outcome.reason, unfinished, message };
  }
  const linearizations = new Map(searches.map((search) => [search.key, search.linearization()]));
  const message = `linearizable: ${checked.length} operations in ${searches.length} partitions`;
  return { result: 'linearizable', ...summary, linearizations, message };
}

/** Search steps one partition takes before the next partition's turn. */
const partitionTurnSteps = 4096;

type TurnsOutcome<State, Input, Output> =
  | { readonly verdict: 'linearizable' }
  | {
      readonly verdict: 'not-linearizable';
      readonly search: CheckedPartition<State, Input, Output>;
      readonly progress: SearchProgress<State>;
    }
  | { readonly verdict: 'unknown'; readonly reason: SearchStopReason };

/**
 * Lets the partitions' searches take turns until one fails, a limit runs out or all succeed. A
 * partition that fails quickly ends the check even when another would take long to prove correct.
 */
function runInTurns<State, Input, Output>(
  searches: readonly CheckedPartition<State, Input, Output>[],
): TurnsOutcome<State, Input, Output> {
  let active = searches;
  let cacheLimitReached = false;
  while (active.length > 0) {
    for (const search of active) {
      const outcome = search.advance(partitionTurnSteps);
      if (outcome?.verdict === 'not-linearizable') {
        return { verdict: 'not-linearizable', search, progress: outcome.progress };
      }
      // The clock is shared, so every search is out of time; a cache limit is one partition's own.
      if (outcome?.verdict === 'unknown' && outcome.reason === 'time-budget') {
        return { verdict: 'unknown', reason: 'time-budget' };
      }
      if (outcome?.verdict === 'unknown') cacheLimitReached = true;
    }
    active = active.filter((search) => !search.stopped);
  }
  return cacheLimitReached
    ? { verdict: 'unknown', reason: 'cache-limit' }
    : { verdict: 'linearizable' };
}

/** One partition and the state of its search. */
class CheckedPartition<State, Input, Output> {
  readonly key: string;
  readonly operations: readonly CheckedOperation<Input, Output>[];
  // Dropped once the outcome is known: its explored-state cache can hold millions of entries.
  #search: PartitionSearch<State, Input, Output> | null;
  #outcome: PartitionOutcome<State> | null = null;

  constructor(
    key: string,
    operations: readonly CheckedOperation<Input, Output>[],
    model: SequentialModel<State, Input, Output>,
    budget: SearchBudget,
  ) {
    this.key = key;
    this.operations = operations;
    this.#search = new PartitionSearch(operations, model, budget);
  }

  /** The verdict so far: `unknown` until the search finishes or when it was stopped by a limit. */
  get verdict(): LinearizabilityVerdict {
    return this.#outcome?.verdict ?? 'unknown';
  }

  /** Whether the search ended, with a verdict or stopped by a limit. */
  get stopped(): boolean {
    return this.#outcome !== null;
  }

  advance(stepsMax: number): PartitionOutcome<State> | null {
    if (this.#outcome !== null) return this.#outcome;
    this.#outcome = this.#search?.advance(stepsMax) ?? null;
    if (this.#outcome !== null) this.#search = null;
    return this.#outcome;
  }

  report(): PartitionReport {
    return { key: this.key, operations: this.operations.length, verdict: this.verdict };
  }

  linearization(): Operation<Input, Output>[] {
    const outcome = this.#outcome;
    invariant(outcome?.verdict === 'linearizable', 'only a linearizable partition has an order');
    return outcome.order.map((index) => this.operations[index]!);
  }

  explain(progress: SearchProgress<State>): LinearizabilityExplanation<State, Input, Output> {
    return {
      partition: this.key,
      longestPrefix: progress.prefix.map((index) => this.operations[index]!),
      stateAfterPrefix: progress.state,
      candidates: progress.candidates.map((index) => this.operations[index]!),
    };
  }
}

function isChecked<Input, Output>(
  operation: Operation<Input, Output>,
): operation is CheckedOperation<Input, Output> {
  return operation.status !== 'fail';
}

function validateLimits(timeBudgetMs: number, cacheEntriesMax: number): void {
  if (Number.isNaN(timeBudgetMs) || timeBudgetMs < 0) {
    throw new RaftError(
      'INVALID_CONFIG',
      `timeBudgetMs must be a non-negative number, got ${timeBudgetMs}`,
    );
  }
  if (!Number.isInteger(cacheEntriesMax) || cacheEntriesMax < 1) {
    throw new RaftError(
      'INVALID_CONFIG',
      `cacheEntriesMax must be a positive integer, got ${cacheEntriesMax}`,
    );
  }
}

function validateOperation<Input, Output>(operation: CheckedOperation<Input, Output>): void {
  if (!Number.isFinite(operation.callTime)) {
    throw new RaftError(
      'INVALID_MESSAGE',
      `operation of process ${operation.process} has no finite call time`,
    );
  }
  if (operation.status === 'ok' && !(operation.returnTime >= operation.callTime)) {
    throw new RaftError(
      'INVALID_MESSAGE',
      `operation of process ${operation.process} returns (${operation.returnTime}) before its call (${operation.callTime})`,
    );
  }
}

/** How many operations of the prefix an explanation lists: the last ones matter most. */
const explainedPrefixOperationsMax = 5;

function formatExplanation<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  explanation: LinearizabilityExplanation<State, Input, Output>,
  operationCount: number,
): string {
  const prefix = explanation.longestPrefix;
  const shown = prefix.slice(-explainedPrefixOperationsMax);
  const lines = [
    `not linearizable: partition "${explanation.partition}" (${operationCount} operations)`,
    prefix.length === shown.length
      ? `longest valid prefix (${prefix.length} operations):`
      : `longest valid prefix (${prefix.length} operations), the last ${shown.length}:`,
    ...shown.map((operation) => `  ${describeOperation(model, operation)}`),
    `state after it: ${describeState(model, explanation.stateAfterPrefix)}`,
    'none of these can come next:',
    ...explanation.candidates.map((operation) => `  ${describeOperation(model, operation)}`),
  ];
  return lines.join('\n');
}
