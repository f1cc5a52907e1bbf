/**
 * The (set of linearized operations, model state) pairs the search has already reached. Reaching
 * the same pair again by another order leads to exactly the same futures, so it is pruned; this is
 * what keeps the search from exploring every interleaving.
 */
export class ExploredCache<State> {
  // Keyed by state hash first: many sets share a state, so each long hash string is stored once.
  // Without an equality function the hash identifies the state and the sets alone are kept.
  // A state is usually reached with a single set, so that set is stored bare and only a second one
  // turns the entry into a Set: a Set per state would double the cache's memory.
  readonly #sets = new Map<string, string | Set<string>>();
  readonly #states = new Map<string, Map<string, State[]>>();
  readonly #equal: ((left: State, right: State) => boolean) | undefined;
  #size = 0;

  constructor(equal: ((left: State, right: State) => boolean) | undefined) {
    this.#equal = equal;
  }

  /** Number of pairs remembered. */
  get size(): number {
    return this.#size;
  }

  /**
   * Remembers the pair and returns true, or returns false if it was seen before. `setKey` is the
   * linearized set's {@link Bitset.key}.
   */
  addIfAbsent(setKey: string, stateHash: string, state: State): boolean {
    const added =
      this.#equal === undefined
        ? this.#addSet(setKey, stateHash)
        : this.#addState(setKey, stateHash, state, this.#equal);
    if (added) this.#size++;
    return added;
  }

  #addSet(setKey: string, stateHash: string): boolean {
    const sets = this.#sets.get(stateHash);
    if (sets === undefined) {
      this.#sets.set(stateHash, setKey);
      return true;
    }
    if (typeof sets === 'string') {
      if (sets === setKey) return false;
      this.#sets.set(stateHash, new Set([sets, setKey]));
      return true;
    }
    if (sets.has(setKey)) return false;
    sets.add(setKey);
    return true;
  }

  #addState(
    setKey: string,
    stateHash: string,
    state: State,
    equal: (left: State, right: State) => boolean,
  ): boolean {
    let bySet = this.#states.get(stateHash);
    if (bySet === undefined) {
      bySet = new Map();
      this.#states.set(stateHash, bySet);
    }
    const states = bySet.get(setKey);
    if (states === undefined) {
      bySet.set(setKey, [state]);
      return true;
    }
    if (states.some((seen) => equal(seen, state))) return false;
    states.push(state);
    return true;
  }
}
