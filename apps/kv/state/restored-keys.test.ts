import { describe, expect, it } from 'vitest';
import { RestoredKeys } from './restored-keys.js';

/** Lays keys out as an image does (u32 length, the key's bytes) followed by a 3-byte record. */
function layOut(keys: readonly string[]): { bytes: Buffer; keyAts: number[] } {
  const parts: Buffer[] = [];
  const keyAts: number[] = [];
  let at = 0;
  for (const key of keys) {
    const name = Buffer.from(key, 'latin1');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(name.length);
    keyAts.push(at);
    parts.push(length, name, Buffer.from([7, 7, 7]));
    at += 4 + name.length + 3;
  }
  return { bytes: Buffer.concat(parts), keyAts };
}

describe('RestoredKeys', () => {
  it('finds each key once, at the record after its name, and forgets it then', () => {
    const keys = ['a', 'key:000000000001', '', '\u00ff\u0000\u0080x', 'key:000000000002'];
    const { bytes, keyAts } = layOut(keys);
    const index = new RestoredKeys(bytes, keys.length);
    for (const keyAt of keyAts) index.add(keyAt);
    expect(index.size).toBe(keys.length);
    expect(index.take('missing')).toBe(-1);
    expect(index.take('key:000000000003')).toBe(-1);
    keys.forEach((key, position) => {
      expect(index.take(key)).toBe(keyAts[position]! + 4 + key.length);
      expect(index.take(key)).toBe(-1);
    });
    expect(index.size).toBe(0);
    expect([...index.entries()]).toEqual([]);
  });

  it('lists the keys still there with their records, through long probe chains', () => {
    const keys = Array.from({ length: 5000 }, (_, position) => `k${position}`);
    const { bytes, keyAts } = layOut(keys);
    const index = new RestoredKeys(bytes, keys.length);
    for (const keyAt of keyAts) index.add(keyAt);
    for (let position = 0; position < keys.length; position += 2) index.take(keys[position]!);
    const left = new Map(index.entries());
    expect(index.size).toBe(2500);
    expect(left.size).toBe(2500);
    for (let position = 1; position < keys.length; position += 2) {
      expect(left.get(keys[position]!)).toBe(keyAts[position]! + 4 + keys[position]!.length);
    }
    // Taken keys leave their slots in place: keys probed past them are still found.
    for (let position = 1; position < keys.length; position += 2) {
      expect(index.take(keys[position]!)).toBeGreaterThan(0);
    }
    expect(index.size).toBe(0);
  });
});
