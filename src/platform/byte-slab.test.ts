import { describe, expect, it } from 'vitest';
import { pooledBytes, pooledBytesMax } from './byte-slab.js';

describe('pooledBytes', () => {
  it('carves small arrays out of a shared slab, eight-byte aligned', () => {
    // Three in a row: a slab boundary can fall between at most one pair of them.
    const arrays = [pooledBytes(5), pooledBytes(5), pooledBytes(5)];
    const shared = arrays.findIndex(
      (bytes, position) => position > 0 && bytes.buffer === arrays[position - 1]!.buffer,
    );
    expect(shared).toBeGreaterThan(0);
    expect(arrays[shared]!.byteOffset - arrays[shared - 1]!.byteOffset).toBe(8);
  });

  it('hands out zero-filled arrays that do not overlap', () => {
    const first = pooledBytes(13);
    const second = pooledBytes(100);
    expect([...first, ...second].every((byte) => byte === 0)).toBe(true);
    second.fill(7);
    expect(first.every((byte) => byte === 0)).toBe(true);
    expect(second).toHaveLength(100);
  });

  it('gives a large array a buffer of its own', () => {
    const large = pooledBytes(pooledBytesMax + 1);
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(pooledBytesMax + 1);
  });
});
