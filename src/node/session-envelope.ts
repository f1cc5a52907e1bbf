import { BinaryReader, BinaryWriter, writeU64At } from '../codec/binary.js';
import { RaftError, type SessionEntryDraft } from '../core/index.js';
import { pooledBytes } from '../platform/byte-slab.js';
import type { SessionTag } from '../transport/transport.js';
import type { SessionStamp } from './request-options.js';

/**
 * The limits a session lives under. The leader writes its own into every registration, so every
 * server applies the same ones whatever its local options say: the session table is replicated
 * state, and servers that disagreed on a limit would disagree on whether a retry is a duplicate.
 */
export interface SessionLimits {
  /** A session not used for this long, in log time, expires. */
  readonly timeoutMs: number;
  /** Results a session keeps for commands whose answers its client has not acknowledged. */
  readonly resultsMax: number;
  /** Sessions the table holds; registering one more evicts the least recently used. */
  readonly sessionsMax: number;
}

/** A decoded session entry: a registration, or a command of a session. */
export type SessionRecord =
  | { readonly kind: 'register'; readonly timeMs: number; readonly limits: SessionLimits }
  | {
      readonly kind: 'command';
      readonly timeMs: number;
      readonly sessionId: number;
      readonly sequence: number;
      readonly lowestUnacknowledged: number;
      readonly command: Uint8Array;
    };

// Wire codes are part of the log's format: never renumber, only append.
const registerCode = 1;
const commandCode = 2;
/** Fixed bytes in front of a session command: code, time, session, sequence, acknowledgement. */
export const sessionCommandOverheadBytes = 1 + 8 * 4;

/**
 * Builds the log entry for a tagged proposal. `timeMs` is the leader's clock when it appends: log
 * time, which every server reads back from the entry rather than from its own clock.
 */
export function encodeSessionEntry(
  tag: SessionTag,
  command: Uint8Array,
  stamp: { readonly timeMs: number; readonly limits: SessionLimits },
): SessionEntryDraft {
  const timeMs = Math.max(0, Math.floor(stamp.timeMs));
  if (tag.kind === 'register') {
    const { timeoutMs, resultsMax, sessionsMax } = stamp.limits;
    const writer = new BinaryWriter({ initialBytes: 1 + 8 * 4 });
    writer.u8(registerCode).u64(timeMs).u64(timeoutMs).u64(resultsMax).u64(sessionsMax);
    return { kind: 'session', data: writer.finish() };
  }
  // The header goes straight into the entry's bytes: one allocation per command, where a writer,
  // its buffer and a view of it were a visible share of a session write's cost on the leader. A
  // small entry shares a slab rather than getting a backing store of its own.
  const data = pooledBytes(sessionCommandOverheadBytes + command.byteLength);
  data[0] = commandCode;
  writeU64At(data, 1, timeMs);
  writeU64At(data, 9, tag.sessionId);
  writeU64At(data, 17, tag.sequence);
  writeU64At(data, 25, tag.lowestUnacknowledged);
  data.set(command, sessionCommandOverheadBytes);
  return { kind: 'session', data };
}

/**
 * Reads a session entry's bytes. Throws `INVALID_MESSAGE` on bytes no server of this version wrote;
 * the applier turns that into the same refusal on every server. A command is a view, not a copy.
 */
export function decodeSessionEntry(data: Uint8Array): SessionRecord {
  const reader = new BinaryReader(data);
  const code = reader.u8();
  const timeMs = reader.u64();
  if (code === registerCode) {
    const limits = { timeoutMs: reader.u64(), resultsMax: reader.u64(), sessionsMax: reader.u64() };
    reader.end();
    return { kind: 'register', timeMs, limits };
  }
  if (code !== commandCode) {
    throw new RaftError('INVALID_MESSAGE', `unknown session entry code ${String(code)}`);
  }
  const sessionId = reader.u64();
  const sequence = reader.u64();
  const lowestUnacknowledged = reader.u64();
  const command = data.subarray(reader.offset);
  return { kind: 'command', timeMs, sessionId, sequence, lowestUnacknowledged, command };
}

/** A registration's answer as forwarded bytes: the session id, whatever the result codec is. */
export function encodeSessionId(sessionId: number): Uint8Array {
  return new BinaryWriter({ initialBytes: 8 }).u64(sessionId).finish().slice();
}

/** Reads what {@link encodeSessionId} wrote; throws `INVALID_MESSAGE` on anything else. */
export function decodeSessionId(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  const sessionId = reader.u64();
  reader.end();
  return sessionId;
}

/** The leader's stamp for tagged proposals: its wall clock now, and its configured limits. */
export function sessionStamper(options: {
  readonly wallClock: () => number;
  readonly sessions: SessionLimits;
}): (tag: SessionTag, command: Uint8Array) => SessionEntryDraft {
  return (tag, command) =>
    encodeSessionEntry(tag, command, { timeMs: options.wallClock(), limits: options.sessions });
}

/** The tag for a `propose` call's session option; none for a plain command. */
export function sessionTagOf(session: SessionStamp | undefined): SessionTag | undefined {
  if (session === undefined) return undefined;
  const { id, sequence, lowestUnacknowledged = 0 } = session;
  return { kind: 'command', sessionId: id, sequence, lowestUnacknowledged };
}

/** The tag of a registration, which carries no command. */
export const registerTag: SessionTag = Object.freeze({ kind: 'register' });
