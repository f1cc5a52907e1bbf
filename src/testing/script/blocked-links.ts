/** The links a test network has cut, one direction each, so one-way partitions can be told apart. */
export class BlockedLinks {
  readonly #blocked = new Set<string>();

  /** Whether a message from `from` to `to` is lost. */
  blocks(from: string, to: string): boolean {
    return this.#blocked.has(`${from}->${to}`);
  }

  /** Cuts every link between the two groups (both directions). */
  partition(left: readonly string[], right: readonly string[]): void {
    for (const a of left) {
      for (const b of right) {
        this.#blocked.add(`${a}->${b}`);
        this.#blocked.add(`${b}->${a}`);
      }
    }
  }

  /** Restores every link. */
  heal(): void {
    this.#blocked.clear();
  }
}
