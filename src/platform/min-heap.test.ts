import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.js';

describe('MinHeap', () => {
  it('pops in order whatever the order of the pushes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 200 }), (values) => {
        const heap = new MinHeap<number>((a, b) => a < b);
        for (const value of values) heap.push(value);
        expect(heap.size).toBe(values.length);
        const popped: number[] = [];
        for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item);
        expect(popped).toEqual([...values].sort((a, b) => a - b));
      }),
    );
  });

  it('keeps pushes and pops interleaved in order, and orders ties by what before says', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }), { maxLength: 200 }),
        (operations) => {
          type Timer = { at: number; sequence: number };
          const heap = new MinHeap<Timer>(
            (a, b) => a.at < b.at || (a.at === b.at && a.sequence < b.sequence),
          );
          const model: Timer[] = [];
          operations.forEach((at, sequence) => {
            if (at === null) {
              model.sort((a, b) => a.at - b.at || a.sequence - b.sequence);
              expect(heap.pop()).toEqual(model.shift());
            } else {
              heap.push({ at, sequence });
              model.push({ at, sequence });
            }
            expect(heap.size).toBe(model.length);
          });
        },
      ),
    );
  });

  it('peeks without removing and empties on clear', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    heap.push(3);
    heap.push(1);
    expect(heap.peek()).toBe(1);
    expect(heap.size).toBe(2);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
  });
});
