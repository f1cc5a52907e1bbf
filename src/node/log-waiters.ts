/**
 * Values keyed by log index, each with the term of the entry it waits for, for callers waiting on
 * their entries: the leader adds them in index
 * order as it appends, and they are taken in index order as entries are applied. A window of array
 * slots over consecutive indexes does that with no hashing and no per-key allocation, where a
 * `Map` keyed by index (set, get and delete once per proposal, its table growing and shrinking
 * with every wave of proposals) was a measurable share of the leader's time and garbage at high
 * load. Any index may still be added or taken in any order, as with a map; only the cost differs.
 */
export class LogWaiters<T> {
  /** `#slots[k]` holds the value of index `#first + k`; `undefined` is an empty slot. */
  #slots: (T | undefined)[] = [];
  /** `#terms[k]` is the term of `#slots[k]`: numbers beside the values, not a record per value. */
  #terms: number[] = [];
  #first = 0;
  /** Every slot before it is empty: the window's live part starts here. */
  #head = 0;
  #size = 0;

  /** Values held. */
  get size(): number {
    return this.#size;
  }

  /** The value at `index`, if any. */
  get(index: number): T | undefined {
    const slot = index - this.#first;
    return slot >= this.#head && slot < this.#slots.length ? this.#slots[slot] : undefined;
  }

  /** The term given with the value at `index`, if there is one. */
  termAt(index: number): number | undefined {
    return this.get(index) === undefined ? undefined : this.#terms[index - this.#first];
  }

  /** Puts `value` at `index`, for the entry of `term` there, replacing what was there. */
  set(index: number, term: number, value: T): void {
    if (this.#size === 0) this.#restart(index);
    else if (index < this.#first + this.#head) this.#growDown(index);
    const slot = index - this.#first;
    // Indexes usually arrive consecutively, so the gap filled here is usually empty.
    while (this.#slots.length < slot) {
      this.#slots.push(undefined);
      this.#terms.push(0);
    }
    if (slot === this.#slots.length) {
      this.#slots.push(value);
      this.#terms.push(term);
      this.#size++;
      return;
    }
    if (this.#slots[slot] === undefined) this.#size++;
    this.#slots[slot] = value;
    this.#terms[slot] = term;
  }

  /** Removes and returns the value at `index`, if any. */
  take(index: number): T | undefined {
    const slot = index - this.#first;
    if (slot < this.#head || slot >= this.#slots.length) return undefined;
    const value = this.#slots[slot];
    if (value === undefined) return undefined;
    this.#slots[slot] = undefined;
    if (--this.#size === 0) {
      this.#restart(0);
      return value;
    }
    while (this.#slots[this.#head] === undefined) this.#head++;
    // Drop the empty front once it is most of the window, so the array does not grow forever
    // while the window slides (amortized: each slot is copied at most once per halving).
    if (this.#head >= 1024 && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#terms = this.#terms.slice(this.#head);
      this.#first += this.#head;
      this.#head = 0;
    }
    return value;
  }

  /** Removes every value at or below `index` and returns them in index order. */
  takeThrough(index: number): T[] {
    const values: T[] = [];
    const last = Math.min(index, this.#first + this.#slots.length - 1);
    for (let at = this.#first + this.#head; at <= last && this.#size > 0; at++) {
      const value = this.take(at);
      if (value !== undefined) values.push(value);
    }
    return values;
  }

  /** Removes every value and returns them in index order. */
  takeAll(): T[] {
    const values: T[] = [];
    for (let slot = this.#head; slot < this.#slots.length; slot++) {
      const value = this.#slots[slot];
      if (value !== undefined) values.push(value);
    }
    this.#restart(0);
    return values;
  }

  #restart(first: number): void {
    this.#slots = [];
    this.#terms = [];
    this.#first = first;
    this.#head = 0;
    this.#size = 0;
  }

  /** Moves the window's start down to `index` (rare: an index below every one held). */
  #growDown(index: number): void {
    const gap = this.#first + this.#head - index;
    this.#slots = new Array<T | undefined>(gap)
      .fill(undefined)
      .concat(this.#slots.slice(this.#head));
    this.#terms = new Array<number>(gap).fill(0).concat(this.#terms.slice(this.#head));
    this.#first = index;
    this.#head = 0;
  }
}
