import { invariant } from '../../core/errors.js';
import { Bitset } from './bitset.js';
import { EntryList, type Entry } from './entry-list.js';
import { ExploredCache } from './explored-cache.js';
import type { SequentialModel } from './sequential-model.js';
import type { CompletedOperation, PendingOperation } from './operation.js';
import type { SearchBudget, SearchStopReason } from './search-budget.js';

/** An operation the search may place: failed operations are removed before it starts. */
export type CheckedOperation<Input, Output> =
  CompletedOperation<Input, Output> | PendingOperation<Input>;

/** The deepest point the search reached: what explains a failure. */
export interface SearchProgress<State> {
  /** Indexes of the operations placed, in linearization order. */
  readonly prefix: readonly number[];
  /** The model state after the prefix. */
  readonly state: State;
  /** Indexes of the operations that could have come next; none of them led to a linearization. */
  readonly candidates: readonly number[];
}

/** What the search found for one partition. */
export type PartitionOutcome<State> =
  | { readonly verdict: 'linearizable'; readonly order: readonly number[] }
  | { readonly verdict: 'not-linearizable'; readonly progress: SearchProgress<State> }
  | {
      readonly verdict: 'unknown';
      readonly reason: SearchStopReason;
      readonly progress: SearchProgress<State>;
    };

interface Placed<State> {
  readonly call: Entry;
  /** The state before this operation, restored when the search backtracks over it. */
  readonly stateBefore: State;
}

/**
 * Searches for a linearization of one partition: walk the time-ordered entries; at a call, try to
 * place that operation next (step the model, lift its entries, restart from the earliest entry);
 * at a return, the operation returning there had to be placed already, so undo the last placement
 * and try the next candidate after it. A memo of (placed set, state) prunes orders that reach a
 * situation already explored.
 */
export class PartitionSearch<State, Input, Output> {
  readonly #operations: readonly CheckedOperation<Input, Output>[];
  readonly #model: SequentialModel<State, Input, Output>;
  readonly #budget: SearchBudget;
  readonly #list: EntryList;
  readonly #placedSet: Bitset;
  readonly #explored: ExploredCache<State>;
  readonly #placed: Placed<State>[] = [];
  #deepest: SearchProgress<State> | null = null;
  /** Where the search stands between slices. */
  #state: State;
  #entry: Entry | null;

  constructor(
    operations: readonly CheckedOperation<Input, Output>[],
    model: SequentialModel<State, Input, Output>,
    budget: SearchBudget,
  ) {
    this.#operations = operations;
    this.#model = model;
    this.#budget = budget;
    this.#list = new EntryList(
      operations.map((operation) => ({
        callTime: operation.callTime,
        returnTime: operation.status === 'ok' ? operation.returnTime : null,
      })),
    );
    this.#placedSet = new Bitset(operations.length);
    this.#explored = new ExploredCache(model.equal?.bind(model));
    this.#state = model.init();
    this.#entry = this.#list.first();
    this.#noteProgress(this.#state);
  }

  /**
   * Runs at most `stepsMax` steps; returns the outcome, or null when the search is not finished.
   * Partitions are searched in slices, taking turns, so that one partition that fails quickly is
   * not stuck behind another that takes long to prove correct.
   */
  advance(stepsMax: number): PartitionOutcome<State> | null {
    let state = this.#state;
    let entry = this.#entry;
    for (let steps = 0; steps < stepsMax; steps++) {
      if (entry === null) return this.#linearizable();
      const stopReason = this.#budget.spend(this.#explored.size);
      if (stopReason !== null) {
        return { verdict: 'unknown', reason: stopReason, progress: this.#progress() };
      }
      if (entry.isCall) {
        const stateAfter = this.#tryPlace(entry, state);
        if (stateAfter === undefined) {
          entry = entry.next;
          continue;
        }
        this.#placed.push({ call: entry, stateBefore: state });
        this.#list.lift(entry);
        state = stateAfter;
        this.#noteProgress(state);
        entry = this.#list.first();
        continue;
      }
      // Pending operations return at infinity, after every completed one: reaching one means every
      // completed operation is placed, and the pending ones left are those that never took effect.
      if (this.#operations[entry.operationIndex]!.status === 'pending') return this.#linearizable();
      const undone = this.#placed.pop();
      if (undone === undefined) return { verdict: 'not-linearizable', progress: this.#progress() };
      this.#placedSet.delete(undone.call.operationIndex);
      this.#list.unlift(undone.call);
      state = undone.stateBefore;
      entry = undone.call.next;
    }
    this.#state = state;
    this.#entry = entry;
    return null;
  }

  #linearizable(): PartitionOutcome<State> {
    return {
      verdict: 'linearizable',
      order: this.#placed.map((placed) => placed.call.operationIndex),
    };
  }

  /**
   * Steps the model through the entry's operation. Returns the state after it, or undefined if the
   * operation cannot come next or leads somewhere already explored.
   */
  #tryPlace(call: Entry, state: State): State | undefined {
    const operation = this.#operations[call.operationIndex]!;
    const model = this.#model;
    let stateAfter: State;
    if (operation.status === 'pending') {
      stateAfter = model.stepPending(state, operation.input);
    } else {
      const result = model.step(state, operation.input, operation.output);
      if (!result.ok) return undefined;
      stateAfter = result.state;
    }
    this.#placedSet.add(call.operationIndex);
    if (this.#explored.addIfAbsent(this.#placedSet.key(), model.hash(stateAfter), stateAfter)) {
      return stateAfter;
    }
    this.#placedSet.delete(call.operationIndex);
    return undefined;
  }

  /**
   * Remembers the placement if it is the deepest so far, to explain a failure. The deepest depth
   * only grows, so this copies at most once per operation.
   */
  #noteProgress(state: State): void {
    if (this.#deepest !== null && this.#placed.length <= this.#deepest.prefix.length) return;
    const candidates: number[] = [];
    for (let entry = this.#list.first(); entry !== null && entry.isCall; entry = entry.next) {
      candidates.push(entry.operationIndex);
    }
    this.#deepest = {
      prefix: this.#placed.map((placed) => placed.call.operationIndex),
      state,
      candidates,
    };
  }

  #progress(): SearchProgress<State> {
    const deepest = this.#deepest;
    invariant(deepest !== null, 'progress is noted before the search starts');
    return deepest;
  }
}
