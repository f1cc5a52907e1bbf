/** The properties the checkers watch, one name each. */
export type SafetyProperty =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-monotonic'
  | 'durability'
  | 'acknowledged-write-lost'
  | 'exactly-once'
  | 'linearizability'
  | 'liveness'
  | 'node-failure';

/** One broken property, with enough words to start reading the trace. */
export interface SafetyViolation {
  readonly property: SafetyProperty;
  readonly message: string;
  /** Virtual time of the step that revealed it. */
  readonly time: number;
}

/**
 * A broken safety property, thrown by tests that stop at the first violation
 * (`ClusterCheckers.throwFirstViolation`). Tests that plant bugs match on this class and its
 * `property`, so an unrelated exception never passes for a caught bug.
 */
export class SafetyViolationError extends Error {
  readonly property: SafetyProperty;

  constructor(property: SafetyProperty, message: string) {
    super(`${property}: ${message}`);
    this.name = 'SafetyViolationError';
    this.property = property;
  }
}

/** Counts checks and collects violations; every checker reports through one. */
export class ViolationLog {
  readonly #violations: SafetyViolation[] = [];
  readonly #now: () => number;
  /** Violations kept; a run stops at the first anyway, so a few are plenty. */
  static readonly violationsMax = 100;
  #checks = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Checks performed so far. */
  get checks(): number {
    return this.#checks;
  }

  /** Every violation so far, oldest first. */
  get violations(): readonly SafetyViolation[] {
    return this.#violations;
  }

  /** Counts `count` checks. */
  count(count = 1): void {
    this.#checks += count;
  }

  /** Records a violation of `property`. */
  report(property: SafetyProperty, message: string): void {
    if (this.#violations.length >= ViolationLog.violationsMax) return;
    this.#violations.push({ property, message, time: this.#now() });
  }
}
