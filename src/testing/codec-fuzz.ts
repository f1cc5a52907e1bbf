// A fuzzer for the wire format: random valid messages, damaged in several ways, fed through the
// frame decoder. It is part of the test kit so that a custom transport can feed the same damaged
// frames to its receiver, and so that `npm run bench:codec-fuzz` runs it at scale.
import { RaftError, seededRandom } from '../core/index.js';
import type { Entry } from '../core/index.js';
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  type Message,
} from '../codec/index.js';

/** Draws values for the fuzzer from one seeded source. */
class Draw {
  constructor(readonly random: () => number) {}

  below(limit: number): number {
    return Math.floor(this.random() * limit);
  }

  boolean(): boolean {
    return this.random() < 0.5;
  }

  unsigned(): number {
    const edges = [0, 1, 255, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER];
    return this.boolean() ? edges[this.below(edges.length)]! : this.below(1_000_000);
  }

  bytes(lengthMax: number): Uint8Array {
    const bytes = new Uint8Array(this.below(lengthMax + 1));
    for (let position = 0; position < bytes.length; position++) bytes[position] = this.below(256);
    return bytes;
  }

  id(): string {
    const ids = ['a', 'node-2', 'ñ', '', '__proto__', 'server.example:7000'];
    return ids[this.below(ids.length)]!;
  }

  entry(index: number): Entry {
    const term = this.unsigned();
    switch (this.below(4)) {
      case 0:
        return { kind: 'command', index, term, data: this.bytes(24) };
      case 1:
        return { kind: 'noop', index, term };
      case 2:
        return {
          kind: 'configuration',
          index,
          term,
          configuration: {
            voters: [this.id(), this.id()],
            outgoingVoters: this.boolean() ? [this.id()] : [],
            learners: [],
            addresses: { [this.id()]: '127.0.0.1:7000' },
          },
        };
      default:
        return {
          kind: 'settings',
          index,
          term,
          settings: { preVote: this.boolean(), checkQuorum: this.boolean() },
        };
    }
  }
}

/** A random valid message of a random type. */
export function randomMessage(random: () => number): Message {
  const draw = new Draw(random);
  const base = { term: draw.unsigned(), from: draw.id(), to: draw.id() };
  switch (draw.below(15)) {
    case 0:
      return {
        type: 'request-vote',
        ...base,
        lastLogIndex: draw.unsigned(),
        lastLogTerm: draw.unsigned(),
        preVote: draw.boolean(),
        transfer: draw.boolean(),
      };
    case 1:
      return { type: 'request-vote-response', ...base, preVote: false, granted: draw.boolean() };
    case 2: {
      const entries = Array.from({ length: draw.below(5) }, (_, offset) => draw.entry(offset + 1));
      return {
        type: 'append-entries',
        ...base,
        prevLogIndex: draw.unsigned(),
        prevLogTerm: draw.unsigned(),
        entries,
        commit: draw.unsigned(),
      };
    }
    case 3:
      return {
        type: 'append-entries-response',
        ...base,
        ...(draw.boolean()
          ? { success: true as const, matchIndex: draw.unsigned() }
          : {
              success: false as const,
              rejectedIndex: draw.unsigned(),
              hintIndex: draw.unsigned(),
              hintTerm: draw.unsigned(),
            }),
      };
    case 4:
      return { type: 'heartbeat', ...base, commit: draw.unsigned(), context: draw.unsigned() };
    case 5:
      return { type: 'heartbeat-response', ...base, context: draw.unsigned() };
    case 6:
      return { type: 'timeout-now', ...base };
    case 7:
      return {
        type: 'install-snapshot',
        ...base,
        snapshot: {
          index: draw.unsigned(),
          term: draw.unsigned(),
          configuration: { voters: [draw.id()], outgoingVoters: [], learners: [], addresses: {} },
          settings: { preVote: true, checkQuorum: draw.boolean() },
        },
        offset: draw.unsigned(),
        data: draw.bytes(40),
        totalBytes: draw.unsigned(),
        checksum: draw.unsigned() % 0x1_0000_0000,
        done: draw.boolean(),
      };
    case 8:
      return {
        type: 'install-snapshot-response',
        ...base,
        snapshotIndex: draw.unsigned(),
        bytesReceived: draw.unsigned(),
        success: draw.boolean(),
      };
    case 9:
      return { type: 'read-index', ...base, context: draw.unsigned() };
    case 10:
      return { type: 'read-index-response', ...base, context: 1, index: draw.unsigned() - 1 };
    case 11:
      return {
        type: 'forward-proposal',
        from: base.from,
        to: base.to,
        requestId: base.term,
        commands: [draw.bytes(8), draw.bytes(8)],
      };
    case 12:
      return { type: 'join-request', from: base.from, to: base.to, requestId: base.term };
    case 13:
      return {
        type: 'join-response',
        from: base.from,
        to: base.to,
        requestId: base.term,
        leaderId: draw.boolean() ? draw.id() : null,
        configuration: draw.boolean()
          ? { voters: [draw.id()], outgoingVoters: [], learners: [draw.id()], addresses: {} }
          : null,
        errorCode: draw.boolean() ? 'DATA_LOST' : null,
        errorMessage: draw.boolean() ? 'remove it, then add it back' : '',
      };
    default:
      return {
        type: 'forward-result',
        from: base.from,
        to: base.to,
        requestId: base.term,
        outcomes: [
          { status: 'applied', result: draw.bytes(8) },
          draw.boolean()
            ? {
                status: 'failed',
                code: 'NOT_LEADER',
                message: 'not the leader',
                outcome: 'not-applied',
                reason: null,
              }
            : {
                status: 'failed',
                code: 'OUTCOME_UNKNOWN',
                message: 'leader lost',
                outcome: 'unknown',
                reason: null,
              },
        ],
        leaderId: draw.boolean() ? draw.id() : null,
      };
  }
}

/** Damages a valid frame in one of several ways a network or an attacker might. */
export function mutateFrame(frame: Uint8Array, random: () => number): Uint8Array {
  const draw = new Draw(random);
  const copy = frame.slice();
  switch (draw.below(6)) {
    case 0: {
      const flips = 1 + draw.below(4);
      for (let flip = 0; flip < flips; flip++) copy[draw.below(copy.length)] = draw.below(256);
      return copy;
    }
    case 1:
      return copy.subarray(0, draw.below(copy.length));
    case 2: {
      const longer = new Uint8Array(copy.length + 1 + draw.below(16));
      longer.set(copy);
      longer.set(draw.bytes(longer.length - copy.length), copy.length);
      return longer;
    }
    case 3: {
      // A length or count field replaced by an extreme value.
      const position = draw.below(Math.max(1, copy.length - 3));
      const extremes = [0xffff_ffff, 0x7fff_ffff, 0x1_0000, copy.length, 0];
      const view = new DataView(copy.buffer, copy.byteOffset, copy.length);
      if (copy.length >= 4) view.setUint32(position, extremes[draw.below(extremes.length)]!, true);
      return copy;
    }
    case 4: {
      // Keep the frame header valid and randomise the body, so decoding gets past the prefix.
      const body = draw.bytes(64);
      const random = new Uint8Array(4 + body.length);
      new DataView(random.buffer).setUint32(0, body.length, true);
      random.set(body, 4);
      if (body.length >= 2) random[4] = 1;
      return random;
    }
    default:
      return draw.bytes(80);
  }
}

/** Outcome counts of a fuzz run. */
export interface FuzzReport {
  readonly cases: number;
  /** Messages decoded from damaged input (appended bytes can hold more than one). */
  readonly decoded: number;
  /** Frames or messages rejected with RaftError `INVALID_MESSAGE`. */
  readonly rejected: number;
  /** Frames incomplete at the end of the input (waiting for bytes that never came). */
  readonly incomplete: number;
}

/**
 * Runs `cases` fuzz cases from `seed`: each encodes a random valid message, checks that it decodes
 * to an identical re-encoding, then damages the frame and checks that the decoder either rejects
 * it with `INVALID_MESSAGE` or yields a message whose re-encoding is byte-identical to the body it
 * came from (the encoding is canonical). Any other outcome throws, naming the seed and case.
 */
export function runCodecFuzz(options: { seed: number; cases: number }): FuzzReport {
  const random = seededRandom(options.seed);
  let decoded = 0;
  let rejected = 0;
  let incomplete = 0;
  for (let index = 0; index < options.cases; index++) {
    const frame = encodeFrame(randomMessage(random));
    checkCanonical(frame.subarray(4), options.seed, index);
    const damaged = mutateFrame(frame, random);
    const decoder = new FrameDecoder();
    try {
      const bodies = decoder.push(damaged);
      if (bodies.length === 0) incomplete++;
      for (const body of bodies) {
        checkCanonical(body, options.seed, index);
        decoded++;
      }
    } catch (error) {
      if (!(error instanceof RaftError && error.code === 'INVALID_MESSAGE')) {
        throw new Error(`fuzz seed ${options.seed} case ${index}: unexpected failure`, {
          cause: error,
        });
      }
      rejected++;
    }
  }
  return { cases: options.cases, decoded, rejected, incomplete };
}

function checkCanonical(body: Uint8Array, seed: number, index: number): void {
  const message = decodeMessage(body);
  const again = encodeMessage(message);
  if (again.length !== body.length || again.some((byte, position) => byte !== body[position])) {
    throw new Error(`fuzz seed ${seed} case ${index}: decoded message re-encodes differently`);
  }
}
