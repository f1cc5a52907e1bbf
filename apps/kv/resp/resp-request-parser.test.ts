import { describe, expect, it } from 'vitest';
import { RespProtocolError } from './resp-protocol-error.js';
import { RespRequestParser } from './resp-request-parser.js';
import { encodeRequest } from './resp-writer.js';

const text = (requests: Buffer[][]): string[][] =>
  requests.map((args) => args.map((arg) => arg.toString('latin1')));

/** Feeds `bytes` in chunks cut at the given offsets and collects every request. */
function parseInPieces(bytes: Buffer, cuts: readonly number[]): string[][] {
  const parser = new RespRequestParser();
  const requests: Buffer[][] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    const result = parser.push(bytes.subarray(start, cut));
    expect(result.error).toBeNull();
    requests.push(...result.requests);
    start = cut;
  }
  expect(parser.bufferedBytes).toBe(0);
  return text(requests);
}

/** A tiny deterministic generator, so failures replay. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const pipeline = Buffer.concat([
  encodeRequest(['SET', 'key', 'value with spaces\r\nand CRLF']),
  encodeRequest(['GET', 'key']),
  Buffer.from('PING\r\n'),
  encodeRequest(['MSET', 'a', '', 'b', Buffer.from([0, 255, 13, 10])]),
  Buffer.from('*0\r\n'),
  Buffer.from('ECHO "hello world" \'x y\'\n'),
  encodeRequest(['DBSIZE']),
]);
const expected = [
  ['SET', 'key', 'value with spaces\r\nand CRLF'],
  ['GET', 'key'],
  ['PING'],
  ['MSET', 'a', '', 'b', Buffer.from([0, 255, 13, 10]).toString('latin1')],
  ['ECHO', 'hello world', 'x y'],
  ['DBSIZE'],
];

describe('RespRequestParser', () => {
  it('parses a pipeline delivered in one chunk', () => {
    expect(parseInPieces(pipeline, [])).toEqual(expected);
  });

  it('parses the same requests when split at every byte boundary', () => {
    for (let cut = 1; cut < pipeline.length; cut++) {
      expect(parseInPieces(pipeline, [cut])).toEqual(expected);
    }
  });

  it('parses the same requests fed one byte at a time', () => {
    const cuts = Array.from({ length: pipeline.length - 1 }, (_, position) => position + 1);
    expect(parseInPieces(pipeline, cuts)).toEqual(expected);
  });

  it('parses the same requests under random chunking (seeded)', () => {
    const random = seeded(7);
    for (let round = 0; round < 200; round++) {
      const cuts: number[] = [];
      let position = 0;
      while (position < pipeline.length) {
        position += 1 + Math.floor(random() * 12);
        if (position < pipeline.length) cuts.push(position);
      }
      expect(parseInPieces(pipeline, cuts)).toEqual(expected);
    }
  });

  it('reassembles a large value arriving in many chunks', () => {
    const value = Buffer.alloc(300_000, 0x61);
    const bytes = encodeRequest(['SET', 'big', value]);
    const parser = new RespRequestParser();
    const requests: Buffer[][] = [];
    for (let start = 0; start < bytes.length; start += 1000) {
      requests.push(...parser.push(bytes.subarray(start, start + 1000)).requests);
    }
    expect(requests).toHaveLength(1);
    expect(requests[0]![2]!.equals(value)).toBe(true);
  });

  it.each([
    ['a non-numeric array length', '*x\r\n'],
    ['a bulk string without its $', '*1\r\n+PING\r\n'],
    ['a negative bulk length', '*1\r\n$-5\r\n'],
    ['a bulk string without CRLF after it', '*1\r\n$4\r\nPINGxx'],
    ['a header line without LF', '*1\rX'],
    ['an over-long header line', `*${'1'.repeat(40)}\r\n`],
    ['a length of 20 digits', `*1\r\n$${'9'.repeat(20)}\r\n`],
    ['an empty bulk length', '*1\r\n$\r\n'],
    ['a sign without digits', '*-\r\n'],
    ['a sign after a digit', '*1-2\r\n'],
    ['unbalanced quotes inline', 'ECHO "open\r\n'],
  ])('rejects %s', (_what, input) => {
    const parser = new RespRequestParser();
    const result = parser.push(Buffer.from(`PING\r\n${input}`, 'latin1'));
    // What came before the damage is still a valid request.
    expect(text(result.requests)).toEqual([['PING']]);
    expect(result.error).toBeInstanceOf(RespProtocolError);
    // Once broken the stream stays broken: framing cannot be recovered.
    expect(parser.push(Buffer.from('PING\r\n')).error).toBeInstanceOf(RespProtocolError);
  });

  it('rejects a request larger than the limit as soon as its size is declared', () => {
    const parser = new RespRequestParser({ requestBytesMax: 1024 });
    expect(parser.push(Buffer.from('*2\r\n$3\r\nSET\r\n$5000\r\n')).error?.message).toMatch(
      /larger than/,
    );
  });

  it('rejects too many arguments and over-long inline lines', () => {
    expect(
      new RespRequestParser({ argumentsMax: 2 }).push(Buffer.from('*3\r\n')).error?.message,
    ).toMatch(/too many arguments/);
    const parser = new RespRequestParser({ inlineBytesMax: 16 });
    expect(parser.push(Buffer.from('x'.repeat(64))).error?.message).toMatch(
      /inline request too long/,
    );
  });

  it('survives random garbage without hanging or throwing anything but protocol errors', () => {
    const random = seeded(42);
    for (let round = 0; round < 500; round++) {
      const garbage = Buffer.from(
        Array.from({ length: 1 + Math.floor(random() * 64) }, () =>
          // Bias towards protocol characters so the parser goes deep.
          random() < 0.5
            ? '*$\r\n0123456789-'.charCodeAt(Math.floor(random() * 15))
            : Math.floor(random() * 256),
        ),
      );
      const parser = new RespRequestParser({ requestBytesMax: 4096, inlineBytesMax: 128 });
      const result = parser.push(garbage);
      expect(result.error === null || result.error instanceof RespProtocolError).toBe(true);
    }
  });
});
