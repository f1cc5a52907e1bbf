/** The kinds of fault the simulator injects, as counted in run summaries. */
export type FaultKind =
  | 'message-loss'
  | 'partition'
  | 'one-way-partition'
  | 'crash'
  | 'crash-after-vote'
  | 'torn-tail-crash'
  | 'restart'
  | 'failed-fsync'
  | 'slow-disk'
  | 'network-faults'
  | 'leader-isolation'
  | 'clock-drift'
  | 'membership-change';

/** Counts injected faults by kind. */
export class FaultCounts {
  readonly #counts = new Map<FaultKind, number>();

  /** Counts `count` faults of `kind`. */
  add(kind: FaultKind, count = 1): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + count);
  }

  /** The count of `kind`. */
  get(kind: FaultKind): number {
    return this.#counts.get(kind) ?? 0;
  }

  /** Every kind counted at least once, in a stable order. */
  entries(): [FaultKind, number][] {
    return [...this.#counts].sort(([left], [right]) => left.localeCompare(right));
  }

  /** The total over every kind. */
  get total(): number {
    let total = 0;
    for (const count of this.#counts.values()) total += count;
    return total;
  }
}
