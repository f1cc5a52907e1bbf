import { RaftError } from '../core/index.js';

/** Per-call options of `propose` and of every other request that waits for the cluster. */
export interface ProposeOptions {
  /** Rejects with `ABORTED` (or `OUTCOME_UNKNOWN` once the command is in the log) when fired. */
  readonly signal?: AbortSignal;
  /** Overrides the node's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
}

/**
 * Which client session a command belongs to, and its number in that session (docs/sessions.md).
 * Usually filled in by a `ClientSession`; a client that keeps its own numbering passes it here.
 */
export interface SessionStamp {
  /** The session's id, as `openSession` returned it. */
  readonly id: number;
  /** This command's number in the session, from 1; a retry repeats it. */
  readonly sequence: number;
  /**
   * The client holds the answers of every sequence below this one, so the cluster may forget
   * their results. Default 0: nothing acknowledged.
   */
  readonly lowestUnacknowledged?: number;
}

/** Per-call options of `propose`. */
export interface CommandOptions extends ProposeOptions {
  /** Applies the command at most once per `(session.id, session.sequence)`. */
  readonly session?: SessionStamp;
}

/**
 * The options of a call that passes none: one shared, frozen object rather than a `{}` default
 * made per call (an empty literal is about 56 bytes, and `propose` is called per command).
 */
export const noOptions: CommandOptions & ReadOptions = Object.freeze({});

/** How fresh a read must be. */
export type ReadConsistency = 'linearizable' | 'lease' | 'stale';

/** Per-call options of `read`. */
export interface ReadOptions extends ProposeOptions {
  /**
   * `linearizable` (default): reflects every write acknowledged before the read began, confirmed
   * with one heartbeat round (ReadIndex), never a log write. `lease`: the leader skips that round
   * while its CheckQuorum lease holds (assumes bounded clock drift); elsewhere it falls back to
   * `linearizable`. `stale`: this server's state as it is, possibly behind.
   */
  readonly consistency?: ReadConsistency;
}

const consistencies: ReadonlySet<string> = new Set(['linearizable', 'lease', 'stale']);

/**
 * Why per-call options are unusable, or null. Checked before anything enters the log: a request
 * refused for its options never reached the cluster, so the caller may fix it and retry safely.
 */
export function findOptionsError(options: ReadOptions & CommandOptions): RaftError | null {
  if (typeof options !== 'object' || options === null) {
    return invalid('options', 'request options must be an object');
  }
  const { timeoutMs, signal, consistency } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    return invalid(
      'timeoutMs',
      `timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return invalid('signal', 'signal must be an AbortSignal');
  }
  if (consistency !== undefined && !consistencies.has(consistency)) {
    return invalid(
      'consistency',
      `consistency must be linearizable, lease or stale, got ${String(consistency)}`,
    );
  }
  return options.session === undefined ? null : findSessionError(options.session);
}

// Module-level helpers rather than closures: the check runs on every request.
function invalid(option: string, message: string): RaftError {
  return new RaftError('INVALID_CONFIG', message, { details: { option, outcome: 'not-applied' } });
}

function positiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function findSessionError(session: SessionStamp): RaftError | null {
  if (typeof session !== 'object' || session === null) {
    return invalid('session', 'session must be an object with id and sequence');
  }
  const { id, sequence, lowestUnacknowledged = 0 } = session;
  if (!positiveInteger(id)) {
    return invalid('session.id', `session.id must be a positive integer, got ${String(id)}`);
  }
  if (!positiveInteger(sequence)) {
    return invalid(
      'session.sequence',
      `session.sequence must be a positive integer, got ${String(sequence)}`,
    );
  }
  if (
    !Number.isSafeInteger(lowestUnacknowledged) ||
    lowestUnacknowledged < 0 ||
    lowestUnacknowledged > sequence
  ) {
    return invalid(
      'session.lowestUnacknowledged',
      `session.lowestUnacknowledged must be an integer from 0 to the sequence, got ${String(lowestUnacknowledged)}`,
    );
  }
  return null;
}
