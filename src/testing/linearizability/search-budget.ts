/** Why a search stopped before reaching a verdict. */
export type SearchStopReason = 'time-budget' | 'cache-limit';

/** How often, in search steps, the clock is read: reading it every step would dominate the cost. */
const clockCheckIntervalSteps = 1024;

/** Limits shared by the searches of every partition of one history. */
export interface SearchBudgetOptions {
  /** Time at which to give up, on the scale of `now`. */
  readonly deadline: number;
  readonly now: () => number;
  /** Most (operations, state) pairs one partition's search may remember. */
  readonly cacheEntriesMax: number;
}

/** Counts search steps and tells the search when it has to stop. */
export class SearchBudget {
  readonly #options: SearchBudgetOptions;
  #steps = 0;

  constructor(options: SearchBudgetOptions) {
    this.#options = options;
  }

  /** Search steps taken so far, over all partitions. */
  get steps(): number {
    return this.#steps;
  }

  /** Counts one step; returns why to stop, or null to go on. */
  spend(cacheSize: number): SearchStopReason | null {
    this.#steps++;
    if (cacheSize > this.#options.cacheEntriesMax) return 'cache-limit';
    if (this.#steps % clockCheckIntervalSteps !== 0) return null;
    return this.#options.now() >= this.#options.deadline ? 'time-budget' : null;
  }
}
