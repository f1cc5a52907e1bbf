import { describe, expect, it } from 'vitest';
import { findLostWrites } from './acknowledged-writes.js';
import type { HistoryEntry } from './history.js';

function write(
  op: 'put' | 'append',
  value: string,
  call: number,
  returned: number | null,
): HistoryEntry {
  return { client: call, op, key: 'k', value, call, return: returned };
}

describe('findLostWrites', () => {
  it('finds an acknowledged append missing from the final value', () => {
    const history = [
      write('put', 'p,', 0, 10),
      write('append', 'a,', 20, 30),
      write('append', 'b,', 40, 50),
    ];
    expect(findLostWrites(history, new Map([['k', 'p,a,b,']]))).toEqual([]);
    expect(findLostWrites(history, new Map([['k', 'p,b,']]))).toEqual([
      { key: 'k', op: 'append', value: 'a,', finalValue: 'p,b,' },
    ]);
  });

  it('finds an acknowledged last put that does not begin the final value', () => {
    const history = [write('put', 'p1,', 0, 10), write('put', 'p2,', 20, 30)];
    expect(findLostWrites(history, new Map([['k', 'p2,']]))).toEqual([]);
    expect(findLostWrites(history, new Map([['k', 'p1,']]))).toEqual([
      { key: 'k', op: 'put', value: 'p2,', finalValue: 'p1,' },
    ]);
  });

  it('excuses writes that a later, concurrent or unknown put may have replaced', () => {
    const overlapping = [write('append', 'a,', 0, 10), write('put', 'p,', 5, 15)];
    expect(findLostWrites(overlapping, new Map([['k', 'p,']]))).toEqual([]);
    const unknownPut = [write('put', 'p,', 0, null), write('append', 'a,', 20, 30)];
    expect(findLostWrites(unknownPut, new Map([['k', 'p,']]))).toEqual([]);
  });

  it('ignores writes whose outcome is unknown and reads a missing key as empty', () => {
    const history = [write('append', 'a,', 0, null), write('append', 'b,', 20, 30)];
    expect(findLostWrites(history, new Map())).toEqual([
      { key: 'k', op: 'append', value: 'b,', finalValue: '' },
    ]);
  });
});
