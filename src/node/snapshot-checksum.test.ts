import { describe, expect, it } from 'vitest';
import { crc32c } from '../codec/crc32c.js';
import { bootstrapSnapshot, configurationOf } from '../core/index.js';
import type { StoredSnapshot } from '../storage/log-storage.js';
import { SnapshotChecksum } from './snapshot-checksum.js';

const data = Uint8Array.from({ length: 300 }, (_, position) => (position * 7) % 256);
const stored: StoredSnapshot = {
  meta: { ...bootstrapSnapshot(configurationOf(['a'])), index: 4, term: 1 },
  bytes: data.byteLength,
  checksum: crc32c(data),
};
const chunk = (from: number, to: number) => data.subarray(from, to);

describe('SnapshotChecksum', () => {
  it('counts every byte once, whatever chunks overlap or come again', () => {
    const checksum = new SnapshotChecksum(stored);
    expect(checksum.add(0, chunk(0, 150))).toBe(true);
    // Another leader's chunk size: this one straddles what was counted.
    expect(checksum.add(100, chunk(100, 250))).toBe(true);
    expect(checksum.add(0, chunk(0, 100))).toBe(false);
    expect(checksum.checkedBytes).toBe(250);
    checksum.add(250, chunk(250, 300));
    expect(() => checksum.verify()).not.toThrow();
  });

  it('leaves a chunk past a gap uncounted, and refuses a verdict before the end', () => {
    const checksum = new SnapshotChecksum(stored);
    checksum.add(0, chunk(0, 100));
    expect(checksum.add(200, chunk(200, 300))).toBe(false);
    expect(checksum.checkedBytes).toBe(100);
    expect(() => checksum.verify()).toThrow(expect.objectContaining({ code: 'INVARIANT' }));
  });

  it('refuses damaged data, and data longer than was stored, with CORRUPT_STORAGE', () => {
    const damaged = data.slice();
    damaged[299]! ^= 0x80;
    const checksum = new SnapshotChecksum(stored);
    checksum.add(0, damaged);
    expect(() => checksum.verify()).toThrow(
      expect.objectContaining({
        code: 'CORRUPT_STORAGE',
        details: { snapshotIndex: 4, checksum: stored.checksum },
      }),
    );
    const longer = new SnapshotChecksum({ ...stored, bytes: 299, checksum: crc32c(data) });
    longer.add(0, data);
    expect(() => longer.verify()).toThrow(expect.objectContaining({ code: 'CORRUPT_STORAGE' }));
  });
});
