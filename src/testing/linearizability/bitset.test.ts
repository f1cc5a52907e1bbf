import { describe, expect, it } from 'vitest';
import { Bitset } from './bitset.js';

describe('Bitset', () => {
  it('adds and deletes members across word boundaries', () => {
    const set = new Bitset(70);
    set.add(0);
    set.add(31);
    set.add(32);
    set.add(69);
    expect([0, 1, 31, 32, 33, 69].map((index) => set.has(index))).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
    ]);
    set.delete(31);
    expect(set.has(31)).toBe(false);
    expect(set.has(32)).toBe(true);
  });

  it('gives equal keys exactly to equal sets', () => {
    const left = new Bitset(40);
    const right = new Bitset(40);
    left.add(3);
    left.add(35);
    right.add(35);
    expect(left.key()).not.toBe(right.key());
    right.add(3);
    expect(left.key()).toBe(right.key());
    // The two 16-bit halves of a word become separate characters and must not be confused.
    const high = new Bitset(40);
    high.add(16);
    const low = new Bitset(40);
    low.add(0);
    expect(high.key()).not.toBe(low.key());
  });

  it('rejects indexes outside its size', () => {
    const set = new Bitset(8);
    expect(() => set.add(8)).toThrow(expect.objectContaining({ code: 'INVARIANT' }));
    expect(() => set.has(-1)).toThrow(expect.objectContaining({ code: 'INVARIANT' }));
  });
});
