import { BinaryReader, BinaryWriter } from '../codec/binary.js';
import { RaftError, type RequestOutcome, type SessionEntry } from '../core/index.js';
import { CommandRejection } from './command-rejection.js';
import { decodeSessionEntry, type SessionLimits } from './session-envelope.js';
import type { ResultCodec } from './state-machine.js';

/** What applying a session entry asks of the applier. */
export type SessionOutcome =
  /** A command seen for the first time: apply it, then {@link SessionTable.record} its result. */
  | {
      readonly kind: 'apply';
      readonly command: Uint8Array;
      readonly sessionId: number;
      readonly sequence: number;
    }
  /** A registration (the result is the session id) or a duplicate (its first result). */
  | { readonly kind: 'answer'; readonly result: unknown; readonly duplicate: boolean }
  /** Nothing is applied: the session is unknown or the sequence is no longer remembered. */
  | { readonly kind: 'refuse'; readonly error: RaftError };

interface SessionState {
  /** Log time of the session's last registration or command. */
  lastActiveMs: number;
  readonly timeoutMs: number;
  readonly resultsMax: number;
  /** Every sequence below this one is answered from nowhere: its result was dropped. */
  discardedBelow: number;
  /** Results by sequence, for every applied sequence at or above `discardedBelow`. */
  readonly results: Map<number, unknown>;
}

const tableFormatVersion = 1;

/**
 * What a session remembers of a command a durable state machine applied before a restart: that
 * it applied, not what it returned (the state machine is not asked twice).
 */
const resultNotKept: unique symbol = Symbol('result not kept');

/**
 * The replicated session table (Raft thesis §6.3): which sessions exist, and per session the
 * results of the commands its client may still retry. Every server applies the same session
 * entries in the same order, and nothing here reads a local clock or a local option — time and
 * limits come from the entries — so every server keeps the same table and answers a retry alike.
 *
 * Sessions are kept in order of last use (a `Map` iterates in insertion order, and a used session
 * is moved to the end), so the least recently used is always first: it is the one evicted when a
 * registration finds the table full, and the first checked for expiry.
 */
export class SessionTable {
  #logTimeMs = 0;
  #sessionsMax = Number.MAX_SAFE_INTEGER;
  readonly #sessions = new Map<number, SessionState>();
  /**
   * The session last moved to the end of `#sessions`, while it is still there: a client's
   * commands mostly follow one another, and moving the session that is already last (a delete
   * and an insert in the Map, whose holes it then compacts) was most of a session command's cost
   * in the table.
   */
  #newest: SessionState | null = null;
  /**
   * The first session of `#sessions` (the least recently used), while nothing has been added,
   * moved or removed since it was found: expiry checks it before every session entry, and finding
   * it afresh made an iterator and an entry array each time.
   */
  #oldest: SessionState | null = null;

  /** Sessions held now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** The latest time a leader stamped into a session entry: the clock sessions expire by. */
  get logTimeMs(): number {
    return this.#logTimeMs;
  }

  /** Whether the session exists and has not expired at the current log time. */
  has(sessionId: number): boolean {
    return this.#find(sessionId) !== undefined;
  }

  /** Applies one session entry to the table and says what the applier must do with it. */
  apply(entry: SessionEntry): SessionOutcome {
    let record;
    try {
      record = decodeSessionEntry(entry.data);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return refuse('INVALID_MESSAGE', `session entry ${entry.index} does not decode: ${reason}`);
    }
    this.#logTimeMs = Math.max(this.#logTimeMs, record.timeMs);
    this.#expireIdle();
    if (record.kind === 'register') return this.#register(entry.index, record.limits);
    const { sessionId, sequence, lowestUnacknowledged, command } = record;
    const session = this.#find(sessionId);
    if (session === undefined) {
      return refuse(
        'SESSION_EXPIRED',
        `session ${sessionId} is unknown here: it expired, was evicted or was never registered`,
        { sessionId, sequence },
      );
    }
    this.#touch(sessionId, session);
    if (lowestUnacknowledged > session.discardedBelow) {
      session.discardedBelow = lowestUnacknowledged;
      // Results arrive in about the order of their sequences, so the acknowledged ones are at the
      // front; one applied out of order stays until the bound pushes it out. Either way every
      // server drops the same ones.
      for (const known of session.results.keys()) {
        if (known >= lowestUnacknowledged) break;
        session.results.delete(known);
      }
    }
    if (session.results.has(sequence)) {
      const result = session.results.get(sequence);
      if (result === resultNotKept) {
        return refuse(
          'RESULT_DISCARDED',
          `command ${sequence} of session ${sessionId} was applied before this server restarted; its result was not kept`,
          { sessionId, sequence, outcome: 'applied' },
        );
      }
      return { kind: 'answer', result, duplicate: true };
    }
    if (sequence < session.discardedBelow) {
      return refuse(
        'RESULT_DISCARDED',
        `session ${sessionId} no longer remembers sequence ${sequence}; whether it applied cannot be learned`,
        { sessionId, sequence },
      );
    }
    return { kind: 'apply', command, sessionId, sequence };
  }

  /** Remembers the state machine's result for a command that {@link apply} let through. */
  record(sessionId: number, sequence: number, result: unknown): void {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return;
    session.results.set(sequence, result);
    if (session.results.size <= session.resultsMax) return;
    // A client with more unacknowledged commands than the limit: the lowest result goes, and with
    // it any claim to answer that sequence again.
    let lowest = sequence;
    for (const known of session.results.keys()) lowest = Math.min(lowest, known);
    session.results.delete(lowest);
    session.discardedBelow = Math.max(session.discardedBelow, lowest + 1);
  }

  /** Remembers that a command applied, when its result is not known (see `resultNotKept`). */
  recordWithoutResult(sessionId: number, sequence: number): void {
    this.record(sessionId, sequence, resultNotKept);
  }

  #register(sessionId: number, limits: SessionLimits): SessionOutcome {
    this.#sessionsMax = limits.sessionsMax;
    const registered: SessionState = {
      lastActiveMs: this.#logTimeMs,
      timeoutMs: limits.timeoutMs,
      resultsMax: limits.resultsMax,
      discardedBelow: 0,
      results: new Map(),
    };
    // A registration's id is its log index, so it is new to the table and goes to the end; were
    // it known, the Map would keep its place, and the next use must move it as before.
    const known = this.#sessions.has(sessionId);
    this.#sessions.set(sessionId, registered);
    this.#newest = known ? null : registered;
    this.#oldest = null;
    for (const [oldestId, oldest] of this.#sessions) {
      if (this.#sessions.size <= this.#sessionsMax) break;
      this.#remove(oldestId, oldest);
    }
    return { kind: 'answer', result: sessionId, duplicate: false };
  }

  #find(sessionId: number): SessionState | undefined {
    const session = this.#sessions.get(sessionId);
    if (session === undefined || !this.#expired(session)) return session;
    this.#remove(sessionId, session);
    return undefined;
  }

  #expired(session: SessionState): boolean {
    return this.#logTimeMs - session.lastActiveMs > session.timeoutMs;
  }

  /** Drops expired sessions from the least recently used end, up to the first live one. */
  #expireIdle(): void {
    if (this.#oldest !== null && !this.#expired(this.#oldest)) return;
    for (const [sessionId, session] of this.#sessions) {
      if (!this.#expired(session)) {
        this.#oldest = session;
        return;
      }
      this.#remove(sessionId, session);
    }
  }

  #touch(sessionId: number, session: SessionState): void {
    session.lastActiveMs = this.#logTimeMs;
    if (session === this.#newest) return;
    this.#sessions.delete(sessionId);
    this.#sessions.set(sessionId, session);
    this.#newest = session;
    this.#oldest = null;
  }

  /** Forgets a session; every removal goes through here so `#newest` and `#oldest` name no gone one. */
  #remove(sessionId: number, session: SessionState): void {
    this.#sessions.delete(sessionId);
    if (session === this.#newest) this.#newest = null;
    this.#oldest = null;
  }

  /** The table as bytes, for a snapshot; results are encoded with the node's result codec. */
  encode(codec: Pick<ResultCodec<unknown>, 'encode'>): Uint8Array {
    const writer = new BinaryWriter();
    writer.u8(tableFormatVersion).u64(this.#logTimeMs).u64(this.#sessionsMax);
    writer.u32(this.#sessions.size);
    for (const [sessionId, session] of this.#sessions) {
      writer.u64(sessionId).u64(session.lastActiveMs).u64(session.timeoutMs);
      writer.u64(session.resultsMax).u64(session.discardedBelow).u32(session.results.size);
      for (const [sequence, result] of session.results)
        writeResult(writer.u64(sequence), result, codec);
    }
    return writer.finish().slice();
  }

  /** Replaces the table with one encoded by {@link encode}; throws `INVALID_MESSAGE` if corrupt. */
  restore(bytes: Uint8Array, codec: Pick<ResultCodec<unknown>, 'decode'>): void {
    const reader = new BinaryReader(bytes);
    const version = reader.u8();
    if (version !== tableFormatVersion) {
      throw new RaftError('INVALID_MESSAGE', `unknown session table version ${String(version)}`);
    }
    const logTimeMs = reader.u64();
    const sessionsMax = reader.u64();
    const sessions = new Map<number, SessionState>();
    const count = reader.count(Number.MAX_SAFE_INTEGER, 8 * 5 + 4, 'sessions');
    for (let position = 0; position < count; position++) {
      const sessionId = reader.u64();
      const lastActiveMs = reader.u64();
      const timeoutMs = reader.u64();
      const resultsMax = reader.u64();
      const discardedBelow = reader.u64();
      const results = new Map<number, unknown>();
      const resultCount = reader.count(Number.MAX_SAFE_INTEGER, 8 + 1, 'session results');
      for (let item = 0; item < resultCount; item++) {
        const sequence = reader.u64();
        results.set(sequence, readResult(reader, bytes.byteLength, codec));
      }
      sessions.set(sessionId, { lastActiveMs, timeoutMs, resultsMax, discardedBelow, results });
    }
    reader.end();
    this.#logTimeMs = logTimeMs;
    this.#sessionsMax = sessionsMax;
    this.#sessions.clear();
    this.#newest = null;
    this.#oldest = null;
    for (const [sessionId, session] of sessions) this.#sessions.set(sessionId, session);
  }

  /** Forgets every session, as a server does before restoring a snapshot that holds none. */
  clear(): void {
    this.#logTimeMs = 0;
    this.#sessionsMax = Number.MAX_SAFE_INTEGER;
    this.#sessions.clear();
    this.#newest = null;
    this.#oldest = null;
  }
}

// A remembered result is a value of the application's, a rejection, or the mark of one not kept.
const resultCodes = { value: 0, notKept: 1, rejection: 2 } as const;

function writeResult(
  writer: BinaryWriter,
  result: unknown,
  codec: Pick<ResultCodec<unknown>, 'encode'>,
): void {
  if (result === resultNotKept) {
    writer.u8(resultCodes.notKept);
  } else if (result instanceof CommandRejection) {
    writer.u8(resultCodes.rejection).string(result.reason).string(result.message);
  } else {
    writer.u8(resultCodes.value).bytes(codec.encode(result));
  }
}

function readResult(
  reader: BinaryReader,
  bytesMax: number,
  codec: Pick<ResultCodec<unknown>, 'decode'>,
): unknown {
  const code = reader.u8();
  if (code === resultCodes.value) return codec.decode(reader.bytes(bytesMax));
  if (code === resultCodes.notKept) return resultNotKept;
  if (code === resultCodes.rejection) {
    return new CommandRejection(reader.string(bytesMax), reader.string(bytesMax));
  }
  throw new RaftError('INVALID_MESSAGE', `unknown session result code ${String(code)}`);
}

type RefusalCode = 'SESSION_EXPIRED' | 'RESULT_DISCARDED' | 'INVALID_MESSAGE';

/**
 * What a refusal says about the command when nothing more is known: an unknown session or a bad
 * command applied nothing; a sequence below what the session remembers may have applied earlier.
 */
const defaultOutcome: Readonly<Record<RefusalCode, RequestOutcome>> = {
  SESSION_EXPIRED: 'not-applied',
  RESULT_DISCARDED: 'unknown',
  INVALID_MESSAGE: 'not-applied',
};

function refuse(
  code: RefusalCode,
  message: string,
  details: { sessionId?: number; sequence?: number; outcome?: 'applied' } = {},
): SessionOutcome {
  return {
    kind: 'refuse',
    error: new RaftError(code, message, { details: { outcome: defaultOutcome[code], ...details } }),
  };
}
