/** One key's expiry moment, as pushed on the heap. */
export interface Deadline {
  readonly key: string;
  readonly atMs: number;
}

/**
 * A binary min-heap of expiry moments. Entries are never removed early: a key whose deadline
 * changed leaves a stale entry that the owner recognizes and ignores when it surfaces.
 */
export class DeadlineHeap {
  #items: Deadline[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): Deadline | undefined {
    return this.#items[0];
  }

  push(item: Deadline): void {
    const items = this.#items;
    items.push(item);
    let position = items.length - 1;
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (items[parent]!.atMs <= item.atMs) break;
      items[position] = items[parent]!;
      position = parent;
    }
    items[position] = item;
  }

  pop(): Deadline | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let position = 0;
    for (;;) {
      const left = position * 2 + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]!.atMs < items[left]!.atMs ? right : left;
      if (items[child]!.atMs >= last.atMs) break;
      items[position] = items[child]!;
      position = child;
    }
    items[position] = last;
    return top;
  }

  /** Replaces the contents, dropping stale entries. */
  rebuild(items: Iterable<Deadline>): void {
    this.#items = [];
    for (const item of items) this.push(item);
  }
}
