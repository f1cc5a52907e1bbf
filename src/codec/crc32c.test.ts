import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';

function bytesOf(length: number, valueAt: (position: number) => number): Uint8Array {
  return Uint8Array.from({ length }, (_, position) => valueAt(position));
}

/** Bit-at-a-time reference: slow, but obviously the textbook definition. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check value for "123456789"', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(bytesOf(32, () => 0xff))).toBe(0x62a8ab43);
    expect(crc32c(bytesOf(32, (position) => position))).toBe(0x46dd794e);
    expect(crc32c(bytesOf(32, (position) => 31 - position))).toBe(0x113fdb5c);
  });

  it('checksums a range in place exactly as a view of that range', () => {
    const bytes = bytesOf(100, (position) => (position * 37 + 11) & 0xff);
    for (const [start, end] of [
      [0, 100],
      [3, 4],
      [5, 5],
      [7, 64],
      [13, 99],
    ] as const) {
      const expected = referenceCrc32c(bytes.subarray(start, end));
      expect(crc32c(bytes, 0, start, end)).toBe(expected);
      // Continued from an earlier piece, as a frame's length and payload are.
      const first = crc32c(bytes.subarray(0, start));
      expect(crc32c(bytes, first, start, end)).toBe(crc32c(bytes.subarray(0, end)));
    }
  });

  it('is 0 for no bytes', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with a bit-at-a-time reference for every length up to 40 and odd offsets', () => {
    const data = bytesOf(64, (position) => (position * 131 + 7) & 0xff);
    for (let start = 0; start < 3; start++) {
      for (let length = 0; length <= 40; length++) {
        const slice = data.subarray(start, start + length);
        expect(crc32c(slice)).toBe(referenceCrc32c(slice));
      }
    }
  });

  it('continues across pieces as if over the whole input', () => {
    const data = bytesOf(1000, (position) => (position * 17) & 0xff);
    const whole = crc32c(data);
    expect(crc32c(data.subarray(333), crc32c(data.subarray(0, 333)))).toBe(whole);
  });
});
