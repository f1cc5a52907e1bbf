import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import { raftMessageTypes, type AppendEntries, type Heartbeat } from '../core/index.js';
import type { Message } from './messages.js';
import { message } from './arbitraries.test-helpers.js';
import { BinaryWriter } from './binary.js';
import { seededRandom } from '../core/index.js';
import { mutateFrame, randomMessage, runCodecFuzz } from '../testing/codec-fuzz.js';
import { FrameDecoder } from './frame-decoder.js';
import {
  decodeMessage,
  messageCodecDefaults,
  encodeFrame,
  encodeMessage,
  messageBytesMin,
  messageCodecVersion,
} from './message-codec.js';

function expectInvalid(action: () => unknown): RaftError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RaftError);
  expect((caught as RaftError).code).toBe('INVALID_MESSAGE');
  return caught as RaftError;
}

const heartbeat: Heartbeat = {
  type: 'heartbeat',
  term: 3,
  from: 'a',
  to: 'b',
  commit: 9,
  context: 0,
};

function append(commandCount: number, commandBytes: number): AppendEntries {
  return {
    type: 'append-entries',
    term: 2,
    from: 'a',
    to: 'b',
    prevLogIndex: 10,
    prevLogTerm: 1,
    commit: 10,
    entries: Array.from({ length: commandCount }, (_, offset) => ({
      kind: 'command' as const,
      index: 11 + offset,
      term: 2,
      data: new Uint8Array(commandBytes).fill(offset),
    })),
  };
}

describe('message codec', () => {
  it('round-trips every message type', () => {
    fc.assert(
      fc.property(message, (value) => {
        const frame = encodeFrame(value);
        expect(new DataView(frame.buffer, frame.byteOffset).getUint32(0, true)).toBe(
          frame.length - 4,
        );
        expect(decodeMessage(frame.subarray(4))).toEqual(value);
        expect(decodeMessage(encodeMessage(value))).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('covers every Raft message type, both forwarding types and the join handshake', () => {
    const seen = new Set<string>();
    const random = seededRandom(1);
    for (let count = 0; count < 500; count++) seen.add(randomMessage(random).type);
    expect([...seen].sort()).toEqual(
      [
        ...raftMessageTypes,
        'forward-proposal',
        'forward-result',
        'join-request',
        'join-response',
      ].sort(),
    );
  });

  it('starts every body with the version and a type code', () => {
    const body = encodeMessage(heartbeat);
    expect(body[0]).toBe(messageCodecVersion);
    expect(body.length).toBeGreaterThanOrEqual(messageBytesMin);
  });

  it('rejects an unknown version or type code', () => {
    const body = encodeMessage(heartbeat).slice();
    body[0] = 2;
    expect(expectInvalid(() => decodeMessage(body)).details).toEqual({ version: 2 });
    body[0] = messageCodecVersion;
    body[1] = 99;
    expectInvalid(() => decodeMessage(body));
    expectInvalid(() => encodeMessage({ ...heartbeat, type: 'gossip' } as unknown as Message));
  });

  it('rejects every strict prefix and any trailing byte', () => {
    fc.assert(
      fc.property(message, (value) => {
        const body = encodeMessage(value);
        for (let length = 0; length < body.length; length++) {
          expectInvalid(() => decodeMessage(body.subarray(0, length)));
        }
        const longer = new Uint8Array(body.length + 1);
        longer.set(body);
        expectInvalid(() => decodeMessage(longer));
      }),
      { numRuns: 40 },
    );
  });

  it('refuses to encode out-of-range integers', () => {
    expectInvalid(() => encodeFrame({ ...heartbeat, term: -1 }));
    expectInvalid(() => encodeFrame({ ...heartbeat, commit: 2 ** 53 }));
    expectInvalid(() =>
      encodeFrame({
        type: 'read-index-response',
        term: 1,
        from: 'a',
        to: 'b',
        context: 1,
        index: -2,
      }),
    );
  });

  it('rejects a read index below -1 on decode', () => {
    const writer = new BinaryWriter();
    writer.u8(messageCodecVersion).u8(11).u64(1).string('a').string('b').u64(1).i64(-2);
    expectInvalid(() => decodeMessage(writer.finish()));
  });

  it('decodes an append response as accepted or rejected, and refuses one that mixes the two', () => {
    const frame = (success: boolean, fields: readonly number[]) => {
      const writer = new BinaryWriter();
      writer.u8(messageCodecVersion).u8(4).u64(3).string('f').string('l').boolean(success);
      for (const field of fields) writer.u64(field);
      return writer.finish();
    };
    const base = { type: 'append-entries-response', term: 3, from: 'f', to: 'l' };
    expect(decodeMessage(frame(true, [9, 0, 0, 0]))).toEqual({
      ...base,
      success: true,
      matchIndex: 9,
    });
    expect(decodeMessage(frame(false, [0, 9, 7, 2]))).toEqual({
      ...base,
      success: false,
      rejectedIndex: 9,
      hintIndex: 7,
      hintTerm: 2,
    });
    expectInvalid(() => decodeMessage(frame(true, [9, 1, 0, 0])));
    expectInvalid(() => decodeMessage(frame(false, [1, 9, 7, 2])));
  });

  it('reads one outcome per forwarded command and rejects an unknown status or error code', () => {
    const header = (writer: BinaryWriter, count = 2) =>
      writer.u8(messageCodecVersion).u8(16).u64(7).string('a').string('b').u32(count);
    const valid = new BinaryWriter();
    header(valid, 5)
      .u8(0)
      .bytes(new Uint8Array([1, 2]));
    valid.u8(2).string('COMMAND_REJECTED').string('too large').boolean(true).string('LIMIT');
    valid.u8(3).string('OUTCOME_UNKNOWN').string('lost').boolean(false);
    valid.u8(4).string('RESULT_DISCARDED').string('too big to send').boolean(false);
    // Status 1, from a peer that does not say what a failure did, reads as unknown.
    valid.u8(1).string('NOT_LEADER').string('not the leader').boolean(false);
    valid.boolean(false);
    const failed = (code: string, message: string, outcome: string, reason: string | null) => ({
      status: 'failed',
      code,
      message,
      outcome,
      reason,
    });
    expect(decodeMessage(valid.finish())).toEqual({
      type: 'forward-result',
      from: 'a',
      to: 'b',
      requestId: 7,
      outcomes: [
        { status: 'applied', result: new Uint8Array([1, 2]) },
        failed('COMMAND_REJECTED', 'too large', 'not-applied', 'LIMIT'),
        failed('OUTCOME_UNKNOWN', 'lost', 'unknown', null),
        failed('RESULT_DISCARDED', 'too big to send', 'applied', null),
        failed('NOT_LEADER', 'not the leader', 'unknown', null),
      ],
      leaderId: null,
    });
    const unknownStatus = new BinaryWriter();
    header(unknownStatus).u8(5).bytes(new Uint8Array(0)).u8(0).bytes(new Uint8Array(0));
    expectInvalid(() => decodeMessage(unknownStatus.boolean(false).finish()));
    const unknownCode = new BinaryWriter();
    header(unknownCode).u8(1).string('ENOSPC').string('disk full').boolean(false);
    unknownCode.u8(0).bytes(new Uint8Array(0));
    expectInvalid(() => decodeMessage(unknownCode.boolean(false).finish()));
  });

  it('refuses a reason on anything but a rejection, and a rejection without one', () => {
    const failure = (code: string, reason: string | null) => {
      const writer = new BinaryWriter();
      writer.u8(messageCodecVersion).u8(16).u64(7).string('a').string('b').u32(1);
      writer
        .u8(2)
        .string(code)
        .string('refused')
        .boolean(reason !== null);
      if (reason !== null) writer.string(reason);
      return writer.boolean(false).finish();
    };
    expect(() => decodeMessage(failure('COMMAND_REJECTED', 'LIMIT'))).not.toThrow();
    expect(() => decodeMessage(failure('NOT_LEADER', null))).not.toThrow();
    expectInvalid(() => decodeMessage(failure('NOT_LEADER', 'LIMIT')));
    expectInvalid(() => decodeMessage(failure('COMMAND_REJECTED', null)));
  });

  it('enforces messageBytesMax on both sides', () => {
    const limits = { ...messageCodecDefaults, messageBytesMax: 1000 };
    expectInvalid(() => encodeFrame(append(4, 300), limits));
    const body = encodeMessage(append(4, 300));
    expectInvalid(() => decodeMessage(body, limits));
    expect(decodeMessage(encodeMessage(append(2, 300), limits), limits)).toEqual(append(2, 300));
  });

  it('enforces the entry count limit before decoding entries', () => {
    const limits = { ...messageCodecDefaults, entriesPerMessageMax: 3 };
    expectInvalid(() => decodeMessage(encodeMessage(append(4, 1)), limits));
    expect(decodeMessage(encodeMessage(append(3, 1)), limits)).toEqual(append(3, 1));
  });

  it('rejects a forged entry count larger than the bytes that follow', () => {
    const body = encodeMessage(append(1, 1)).slice();
    // The count sits after version, code, term, two one-byte ids and three u64 fields.
    const countOffset = 1 + 1 + 8 + 5 + 5 + 24;
    new DataView(body.buffer).setUint32(countOffset, 60_000, true);
    expectInvalid(() => decodeMessage(body));
  });

  it('returns command payloads as views of the frame, not copies', () => {
    const frame = encodeFrame(append(2, 16));
    const decoded = decodeMessage(frame.subarray(4)) as AppendEntries;
    const entry = decoded.entries[1]!;
    expect(entry.kind === 'command' && entry.data.buffer).toBe(frame.buffer);
  });

  it('keeps a leading byte order mark in ids', () => {
    const value = { ...heartbeat, from: '\ufeffa' };
    expect(decodeMessage(encodeMessage(value))).toEqual(value);
  });

  it('survives a fast fuzz run of random and mutated frames', () => {
    const report = runCodecFuzz({ seed: 20_251_123, cases: 10_000 });
    expect(report.cases).toBe(10_000);
    expect(report.rejected).toBeGreaterThan(2_500);
    expect(report.decoded).toBeGreaterThan(100);
  });
});

describe('FrameDecoder', () => {
  it('reassembles frames across arbitrary chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (messages, cuts) => {
          const frames = messages.map((value) => encodeFrame(value));
          const stream = new Uint8Array(frames.reduce((total, frame) => total + frame.length, 0));
          let offset = 0;
          for (const frame of frames) {
            stream.set(frame, offset);
            offset += frame.length;
          }
          const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const decoder = new FrameDecoder();
          const bodies: Uint8Array[] = [];
          let start = 0;
          for (const point of [...points, stream.length]) {
            bodies.push(...decoder.push(stream.subarray(start, point)));
            start = point;
          }
          expect(bodies.map((body) => decodeMessage(body))).toEqual(messages);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('handles one byte at a time and empty frames', () => {
    const frame = encodeFrame(heartbeat);
    const stream = new Uint8Array([0, 0, 0, 0, ...frame, 0, 0, 0, 0]);
    const decoder = new FrameDecoder();
    const bodies: Uint8Array[] = [];
    for (const byte of stream) bodies.push(...decoder.push(new Uint8Array([byte])));
    expect(bodies.map((body) => body.length)).toEqual([0, frame.length - 4, 0]);
    expect(decodeMessage(bodies[1]!)).toEqual(heartbeat);
  });

  it('returns a frame that arrives whole as a view of the chunk', () => {
    const frame = encodeFrame(heartbeat);
    const [body] = new FrameDecoder().push(frame);
    expect(body!.buffer).toBe(frame.buffer);
  });

  it('rejects an oversized length at once and stays failed', () => {
    const header = new Uint8Array([101, 0, 0, 0]);
    expect(new FrameDecoder({ frameBytesMax: 101 }).push(header)).toEqual([]);
    expectInvalid(() => new FrameDecoder({ frameBytesMax: 100 }).push(header));
    const split = new FrameDecoder({ frameBytesMax: 100 });
    expect(split.push(header.subarray(0, 3))).toEqual([]);
    expectInvalid(() => split.push(header.subarray(3)));
    expectInvalid(() => split.push(encodeFrame(heartbeat)));
  });

  it('allocates for the bytes received, not for the length a peer claims', () => {
    const decoder = new FrameDecoder();
    const before = process.memoryUsage().arrayBuffers;
    const claim = new Uint8Array(4 + 100);
    new DataView(claim.buffer).setUint32(0, messageCodecDefaults.messageBytesMax, true);
    expect(decoder.push(claim)).toEqual([]);
    expect(decoder.bufferedBytes).toBe(100);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('holds at most one partial frame between calls', () => {
    const frame = encodeFrame(append(3, 100));
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.subarray(0, 50))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(46);
    expect(decoder.push(frame.subarray(50))).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('never throws anything but INVALID_MESSAGE on mutated streams', () => {
    const random = seededRandom(99);
    for (let count = 0; count < 2000; count++) {
      const damaged = mutateFrame(encodeFrame(randomMessage(random)), random);
      const decoder = new FrameDecoder({ frameBytesMax: 4096 });
      try {
        for (const body of decoder.push(damaged)) decodeMessage(body);
      } catch (error) {
        expect(error).toBeInstanceOf(RaftError);
        expect((error as RaftError).code).toBe('INVALID_MESSAGE');
      }
    }
  });
});
