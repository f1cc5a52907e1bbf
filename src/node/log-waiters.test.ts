import { describe, expect, it } from 'vitest';
import { LogWaiters } from './log-waiters.js';

describe('LogWaiters', () => {
  it('takes values added in index order, in index order', () => {
    const waiters = new LogWaiters<string>();
    for (let index = 5; index <= 9; index++) waiters.set(index, 1, `w${index}`);
    expect(waiters.size).toBe(5);
    expect(waiters.take(4)).toBeUndefined();
    for (let index = 5; index <= 9; index++) expect(waiters.take(index)).toBe(`w${index}`);
    expect(waiters.take(9)).toBeUndefined();
    expect(waiters.size).toBe(0);
  });

  it('behaves as a map for gaps, replacements, out-of-order takes and lower indexes', () => {
    const waiters = new LogWaiters<string>();
    const model = new Map<number, string>();
    const set = (index: number, value: string): void => {
      waiters.set(index, index * 10, value);
      model.set(index, value);
    };
    const take = (index: number): void => {
      expect(waiters.termAt(index)).toBe(model.has(index) ? index * 10 : undefined);
      expect(waiters.take(index)).toBe(model.get(index));
      model.delete(index);
      expect(waiters.size).toBe(model.size);
    };
    set(10, 'a');
    set(14, 'b'); // a gap
    set(14, 'c'); // replaced
    expect(waiters.size).toBe(2);
    take(14); // out of order
    set(3, 'd'); // below every index held
    expect(waiters.get(3)).toBe('d');
    expect(waiters.get(10)).toBe('a');
    take(7);
    take(3);
    take(10);
    set(2, 'e'); // after emptying, any index starts afresh
    take(2);
    expect(waiters.size).toBe(0);
  });

  it('takes everything at or below an index, and nothing above it', () => {
    const waiters = new LogWaiters<string>();
    for (const index of [5, 6, 8, 9, 20]) waiters.set(index, 1, `v${index}`);
    expect(waiters.takeThrough(4)).toEqual([]);
    expect(waiters.takeThrough(8)).toEqual(['v5', 'v6', 'v8']);
    expect(waiters.size).toBe(2);
    expect(waiters.get(9)).toBe('v9');
    expect(waiters.takeThrough(100)).toEqual(['v9', 'v20']);
    expect(waiters.size).toBe(0);
    waiters.set(3, 2, 'again');
    expect(waiters.get(3)).toBe('again');
  });

  it('slides over a long run of indexes and gives everything back in index order', () => {
    const waiters = new LogWaiters<number>();
    for (let index = 1; index <= 100_000; index++) {
      waiters.set(index, 1, index);
      if (index > 64) expect(waiters.take(index - 64)).toBe(index - 64);
    }
    expect(waiters.size).toBe(64);
    expect(waiters.get(100_000 - 64)).toBeUndefined();
    expect(waiters.get(100_000 - 63)).toBe(100_000 - 63);
    const rest = waiters.takeAll();
    expect(rest).toEqual(Array.from({ length: 64 }, (_, offset) => 100_000 - 63 + offset));
    expect(waiters.size).toBe(0);
  });

  it('agrees with a map over a long mix of adds, replacements and takes, wide spans included', () => {
    const waiters = new LogWaiters<number>();
    const model = new Map<number, { term: number; value: number }>();
    let seed = 12345;
    const next = (limit: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % limit;
    };
    let base = 1;
    for (let step = 0; step < 20_000; step++) {
      const index = base + next(step % 1000 === 0 ? 5000 : 300);
      if (next(3) === 0) {
        expect(waiters.termAt(index)).toBe(model.get(index)?.term);
        expect(waiters.take(index)).toBe(model.get(index)?.value);
        model.delete(index);
      } else {
        waiters.set(index, step, step);
        model.set(index, { term: step, value: step });
      }
      expect(waiters.size).toBe(model.size);
      if (next(50) === 0) base += next(200);
    }
    const sorted = [...model.keys()].sort((left, right) => left - right);
    expect(waiters.takeAll()).toEqual(sorted.map((index) => model.get(index)!.value));
    expect(waiters.size).toBe(0);
  });
});
