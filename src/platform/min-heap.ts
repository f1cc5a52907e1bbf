/**
 * A binary min-heap ordered by `before`. The order of two items `before` calls equal is whatever
 * the heap's shape makes it, so a caller that needs a replayable order breaks ties itself (the
 * simulated clock orders equal deadlines by a sequence number). Deterministic: the same pushes
 * and pops give the same order every run.
 */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** `before(a, b)`: whether `a` must leave the heap before `b`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The first item, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    let position = items.length;
    items.push(item);
    while (position > 0) {
      const parent = (position - 1) >> 1;
      const parentItem = items[parent]!;
      if (!this.#before(item, parentItem)) break;
      items[position] = parentItem;
      position = parent;
    }
    items[position] = item;
  }

  /** Removes and returns the first item; `undefined` when empty. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let position = 0;
    for (;;) {
      const left = position * 2 + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && this.#before(items[right]!, items[left]!) ? right : left;
      if (!this.#before(items[child]!, last)) break;
      items[position] = items[child]!;
      position = child;
    }
    items[position] = last;
    return top;
  }

  /** Removes every item. */
  clear(): void {
    this.#items.length = 0;
  }
}
