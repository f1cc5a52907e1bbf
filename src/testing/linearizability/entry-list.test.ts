import { describe, expect, it } from 'vitest';
import { EntryList, type Entry } from './entry-list.js';

function describeList(list: EntryList): string[] {
  const labels: string[] = [];
  for (let entry: Entry | null = list.first(); entry !== null; entry = entry.next) {
    labels.push(`${entry.isCall ? 'call' : 'return'} ${entry.operationIndex}`);
  }
  return labels;
}

describe('EntryList', () => {
  it('orders entries by time, calls before returns at equal times, pending returns last', () => {
    const list = new EntryList([
      { callTime: 0, returnTime: 5 },
      { callTime: 5, returnTime: 6 },
      { callTime: 1, returnTime: null },
    ]);
    expect(describeList(list)).toEqual([
      'call 0',
      'call 2',
      'call 1',
      'return 0',
      'return 1',
      'return 2',
    ]);
  });

  it('restores the list exactly when lifted operations are put back in reverse order', () => {
    const list = new EntryList([
      { callTime: 0, returnTime: 3 },
      { callTime: 1, returnTime: 4 },
      { callTime: 2, returnTime: 5 },
    ]);
    const before = describeList(list);
    const second = list.first()!.next!;
    list.lift(second);
    const first = list.first()!;
    list.lift(first);
    expect(describeList(list)).toEqual(['call 2', 'return 2']);
    list.unlift(first);
    list.unlift(second);
    expect(describeList(list)).toEqual(before);
  });
});
