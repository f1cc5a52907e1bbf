import { describe, expect, it } from 'vitest';
import { keyBytes, keyOf } from './arguments.js';

describe('keyOf', () => {
  it('reads every byte value as one latin1 character, short arguments and long alike', () => {
    const every = Uint8Array.from({ length: 256 }, (_, value) => value);
    for (const length of [1, 3, 12, 13, 64]) {
      for (let start = 0; start + length <= every.length; start += length) {
        // A view into a larger buffer, as arguments are views into a whole request or entry.
        const bytes = every.subarray(start, start + length);
        const text = keyOf(bytes);
        expect(text).toHaveLength(length);
        expect([...keyBytes(text)]).toEqual([...bytes]);
      }
    }
    expect(keyOf(new Uint8Array(0))).toBe('');
    expect(keyOf(new TextEncoder().encode('SET'))).toBe('SET');
  });
});
