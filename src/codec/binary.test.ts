import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import { BinaryReader, BinaryWriter } from './binary.js';
import { safeUnsigned } from './arbitraries.test-helpers.js';

function expectInvalid(read: () => unknown): RaftError {
  let caught: unknown;
  try {
    read();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RaftError);
  expect((caught as RaftError).code).toBe('INVALID_MESSAGE');
  return caught as RaftError;
}

describe('BinaryWriter and BinaryReader', () => {
  it('round-trips every value type in sequence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        safeUnsigned,
        fc.maxSafeInteger(),
        fc.boolean(),
        fc.uint8Array({ maxLength: 100 }),
        fc.string({ unit: 'binary', maxLength: 16 }),
        (u8, u32, u64, i64, flag, bytes, text) => {
          // A tiny initial buffer forces growth on the way.
          const writer = new BinaryWriter({ initialBytes: 1 });
          writer.u8(u8).u32(u32).u64(u64).i64(i64).boolean(flag).bytes(bytes).string(text);
          const reader = new BinaryReader(writer.finish());
          expect(reader.u8()).toBe(u8);
          expect(reader.u32()).toBe(u32);
          expect(reader.u64()).toBe(u64);
          expect(reader.i64()).toBe(i64);
          expect(reader.boolean()).toBe(flag);
          expect(reader.bytes(100)).toEqual(bytes);
          expect(reader.string(200)).toBe(text);
          reader.end();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('encodes integers little-endian with fixed widths', () => {
    const bytes = new BinaryWriter().u32(0x0102_0304).u64(0x1_0000_0002).i64(-1).finish();
    expect([...bytes]).toEqual([
      4, 3, 2, 1, 2, 0, 0, 0, 1, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255,
    ]);
  });

  it('refuses to write integers it cannot represent', () => {
    const writer = new BinaryWriter();
    expectInvalid(() => writer.u8(256));
    expectInvalid(() => writer.u32(-1));
    expectInvalid(() => writer.u32(0x1_0000_0000));
    expectInvalid(() => writer.u64(Number.MAX_SAFE_INTEGER + 1));
    expectInvalid(() => writer.u64(1.5));
    expectInvalid(() => writer.u64(Number.NaN));
    expectInvalid(() => writer.i64(-Number.MAX_SAFE_INTEGER - 1));
    expect(writer.length).toBe(0);
  });

  it('refuses to grow past its byte limit', () => {
    const writer = new BinaryWriter({ initialBytes: 4, bytesMax: 8 });
    writer.u64(1);
    expectInvalid(() => writer.u8(1));
    expectInvalid(() => new BinaryWriter({ bytesMax: 6 }).string('four'));
    expect(new BinaryWriter({ initialBytes: 1, bytesMax: 8 }).string('four').length).toBe(8);
  });

  it('patches a length prefix written earlier', () => {
    const writer = new BinaryWriter();
    writer.u32(0).u8(7);
    writer.u32At(0, 1);
    expect([...writer.finish()]).toEqual([1, 0, 0, 0, 7]);
    expect(() => writer.u32At(2, 1)).toThrow(RangeError);
  });

  it('reports truncation of every value type', () => {
    expectInvalid(() => new BinaryReader(new Uint8Array(0)).u8());
    expectInvalid(() => new BinaryReader(new Uint8Array(3)).u32());
    expectInvalid(() => new BinaryReader(new Uint8Array(7)).u64());
    expectInvalid(() => new BinaryReader(new Uint8Array(7)).i64());
    const shortBytes = new BinaryWriter().bytes(new Uint8Array(10)).finish().subarray(0, 8);
    expectInvalid(() => new BinaryReader(shortBytes).bytes(100));
    const shortString = new BinaryWriter().string('hello').finish().subarray(0, 6);
    expectInvalid(() => new BinaryReader(shortString).string(100));
  });

  it('rejects u64 and i64 values outside the safe integer range', () => {
    const tooLarge = new Uint8Array([0, 0, 0, 0, 0, 0, 0x20, 0]);
    expectInvalid(() => new BinaryReader(tooLarge).u64());
    const tooSmall = new Uint8Array([0, 0, 0, 0, 0, 0, 0xe0, 0xff]);
    expectInvalid(() => new BinaryReader(tooSmall).i64());
    const reader = new BinaryReader(new Uint8Array([255, 255, 255, 255, 255, 255, 0x1f, 0]));
    expect(reader.u64()).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects lengths over the limit before reading the body', () => {
    const bytes = new BinaryWriter().bytes(new Uint8Array(5)).finish();
    expectInvalid(() => new BinaryReader(bytes).bytes(4));
    expect(new BinaryReader(bytes).bytes(5)).toHaveLength(5);
    const text = new BinaryWriter().string('héllo').finish();
    expectInvalid(() => new BinaryReader(text).string(5));
    expect(new BinaryReader(text).string(6)).toBe('héllo');
  });

  it('rejects malformed UTF-8 and keeps the cause', () => {
    const bytes = new BinaryWriter().bytes(new Uint8Array([0x68, 0xc3, 0x28])).finish();
    const error = expectInvalid(() => new BinaryReader(bytes).string(10));
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('keeps a leading byte order mark as text', () => {
    const bytes = new BinaryWriter().string('\ufeffid').finish();
    expect(new BinaryReader(bytes).string(10)).toBe('\ufeffid');
  });

  it('rejects booleans other than 0 and 1', () => {
    expectInvalid(() => new BinaryReader(new Uint8Array([2])).boolean());
  });

  it('rejects counts over the limit or larger than the remaining input', () => {
    const fewBytes = new BinaryWriter().u32(3).u8(0).finish();
    expectInvalid(() => new BinaryReader(fewBytes).count(2, 1, 'items'));
    expectInvalid(() => new BinaryReader(fewBytes).count(10, 1, 'items'));
    const enough = new BinaryWriter().u32(3).u8(0).u8(0).u8(0).finish();
    expect(new BinaryReader(enough).count(10, 1, 'items')).toBe(3);
  });

  it('returns byte fields as views of the input, without copying', () => {
    const input = new BinaryWriter().bytes(new Uint8Array([1, 2, 3])).finish();
    const view = new BinaryReader(input).bytes(10);
    expect(view.buffer).toBe(input.buffer);
    input[4] = 9;
    expect(view[0]).toBe(9);
  });

  it('reads from a view that starts inside a larger buffer', () => {
    const backing = new Uint8Array(16);
    backing.set([0, 0, 0, 42, 0, 0, 0], 3);
    const reader = new BinaryReader(backing.subarray(6, 10));
    expect(reader.u32()).toBe(42);
    expectInvalid(() => reader.u8());
  });

  it('rejects trailing bytes at the end', () => {
    const reader = new BinaryReader(new Uint8Array(2));
    reader.u8();
    expectInvalid(() => reader.end());
  });
});
