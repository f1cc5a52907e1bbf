import { describe, expect, it } from 'vitest';
import type { Entry } from '../../core/index.js';
import { EntryCache } from './entry-cache.js';

function command(index: number, bytes = 10): Entry {
  return { kind: 'command', index, term: 1, data: new Uint8Array(bytes) };
}

function commands(from: number, to: number, bytes = 10): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= to; index++) entries.push(command(index, bytes));
  return entries;
}

describe('EntryCache', () => {
  it('keeps the newest entries within its entry limit', () => {
    const cache = new EntryCache({ entriesMax: 5, bytesMax: 1 << 20 });
    cache.append(commands(1, 12));
    expect(cache.size).toBe(5);
    expect(cache.firstIndex).toBe(8);
    expect(cache.slice(8, 13)).toEqual(commands(8, 12));
    expect(cache.slice(7, 9)).toBeNull();
    expect(cache.slice(12, 14)).toBeNull();
  });

  it('keeps the newest entries within its byte limit, dropping even the last if it is too big', () => {
    const cache = new EntryCache({ entriesMax: 100, bytesMax: 400 });
    cache.append(commands(1, 10, 100));
    // Each entry counts its bytes plus a fixed 64, so two fit in 400.
    expect(cache.firstIndex).toBe(9);
    cache.append([command(11, 1000)]);
    expect(cache.size).toBe(0);
    expect(cache.firstIndex).toBeNull();
  });

  it('forgets a conflicting suffix and a compacted prefix', () => {
    const cache = new EntryCache({ entriesMax: 100, bytesMax: 1 << 20 });
    cache.append(commands(1, 10));
    cache.truncateFrom(7);
    cache.append(commands(7, 8));
    expect(cache.slice(1, 9)).toEqual(commands(1, 8));
    cache.dropThrough(4);
    expect(cache.firstIndex).toBe(5);
    expect(cache.size).toBe(4);
  });

  it('starts over when appended entries do not continue the cached run', () => {
    const cache = new EntryCache({ entriesMax: 100, bytesMax: 1 << 20 });
    cache.append(commands(1, 3));
    cache.append(commands(10, 11));
    expect(cache.firstIndex).toBe(10);
    expect(cache.size).toBe(2);
  });

  it('stays correct over long runs of evictions', () => {
    const cache = new EntryCache({ entriesMax: 3, bytesMax: 1 << 20 });
    for (let index = 1; index <= 5000; index++) cache.append([command(index)]);
    expect(cache.slice(4998, 5001)).toEqual(commands(4998, 5000));
  });
});
