/**
 * Every stable error code. Callers match on `code`, never on the message text; the list is a value
 * too, so a code arriving from a peer can be checked.
 *
 * - `INVALID_CONFIG`: a configuration value is missing, out of range or inconsistent.
 * - `NOT_LEADER`: this server cannot take the request; `details.leaderId` names the leader if known.
 * - `NO_LEADER`: an election is under way; retry shortly.
 * - `PROPOSAL_DROPPED`: a limit or a leadership change refused the proposal before it entered the log.
 * - `OUTCOME_UNKNOWN`: the entry reached the log but leadership was lost before it was known to commit.
 * - `TIMEOUT`, `ABORTED`, `STOPPED`: the caller's deadline passed, its signal fired, the node stopped.
 * - `STORAGE_FAILED`, `CORRUPT_STORAGE`, `LOCKED`: durable state could not be written or trusted.
 * - `APPLY_FAILED`: the state machine threw while applying a committed entry.
 * - `COMMAND_REJECTED`: the state machine refused the command deterministically (`rejectCommand`):
 *   the entry is in the log, every server recorded the same refusal and changed nothing;
 *   `details.reason` holds the application's code.
 * - `INVALID_MESSAGE`: a message or frame failed validation; it is dropped and counted.
 * - `UNKNOWN_PEER`, `UNAUTHENTICATED`: a peer is not in the cluster or failed authentication.
 * - `INVARIANT`: an internal safety assertion failed; the node stops rather than corrupt data.
 * - `CHANGE_IN_PROGRESS`: a membership change is still under way (or the leader has not committed an
 *   entry of its term yet); retry once it finishes.
 * - `UNSAFE_CHANGE`: the requested configuration could let two majorities decide at once.
 * - `CATCH_UP_FAILED`: a learner did not catch up with the leader in the rounds allowed.
 * - `DATA_LOST`: a server that is already a member came back with empty storage; it must be
 *   removed and added back as a new member.
 * - `SESSION_EXPIRED`: a client session is unknown to the cluster (it expired by log time, was
 *   evicted, or was never registered); the command was not applied under it (docs/sessions.md).
 * - `RESULT_DISCARDED`: a session command's sequence is below what the session still remembers (its
 *   client acknowledged it, or left too many unacknowledged); it was not applied this time. Also an
 *   applied command whose result was too large to travel back to the server that forwarded it
 *   (`details.outcome` is `'applied'` then).
 */
export const raftErrorCodes = Object.freeze([
  'INVALID_CONFIG',
  'NOT_LEADER',
  'NO_LEADER',
  'PROPOSAL_DROPPED',
  'OUTCOME_UNKNOWN',
  'TIMEOUT',
  'ABORTED',
  'STOPPED',
  'STORAGE_FAILED',
  'CORRUPT_STORAGE',
  'LOCKED',
  'APPLY_FAILED',
  'COMMAND_REJECTED',
  'INVALID_MESSAGE',
  'UNKNOWN_PEER',
  'UNAUTHENTICATED',
  'BUSY',
  'INVARIANT',
  'CHANGE_IN_PROGRESS',
  'UNSAFE_CHANGE',
  'CATCH_UP_FAILED',
  'DATA_LOST',
  'SESSION_EXPIRED',
  'RESULT_DISCARDED',
] as const);

/** A stable error code; see {@link raftErrorCodes}. */
export type RaftErrorCode = (typeof raftErrorCodes)[number];

const knownCodes: ReadonlySet<string> = new Set(raftErrorCodes);

/** Whether `code` is one of raftkit's error codes (a peer's message may carry anything). */
export function isRaftErrorCode(code: string): code is RaftErrorCode {
  return knownCodes.has(code);
}

/**
 * What a failed request did to the replicated state:
 *
 * - `'not-applied'`: it did not take effect and never will (refused before it entered the log,
 *   replaced in the log by a new leader, or rejected by the state machine, which changed nothing).
 *   Sending the same request again cannot apply it twice.
 * - `'unknown'`: it reached the log and may still take effect. Send it again only under a client
 *   session (docs/sessions.md), which applies a command at most once.
 * - `'applied'`: it took effect earlier (a session duplicate whose result is no longer kept).
 */
export type RequestOutcome = 'not-applied' | 'unknown' | 'applied';

/** Extra facts attached to an error; which keys appear depends on the code. */
export interface RaftErrorDetails {
  readonly leaderId?: string | null;
  readonly leaderAddress?: string | null;
  /** Set on every rejection of a request (a write, a read, a membership or settings change). */
  readonly outcome?: RequestOutcome;
  readonly [key: string]: unknown;
}

/**
 * Codes that describe a passing state of the cluster (an election, a full queue, a change under
 * way, a deadline): the same request may succeed if sent again shortly. Every other code needs
 * something else to change first (the request, the configuration, the disk).
 */
export const transientErrorCodes: ReadonlySet<RaftErrorCode> = new Set<RaftErrorCode>([
  'NOT_LEADER',
  'NO_LEADER',
  'PROPOSAL_DROPPED',
  'BUSY',
  'TIMEOUT',
  'OUTCOME_UNKNOWN',
  'CHANGE_IN_PROGRESS',
  'CATCH_UP_FAILED',
]);

/**
 * Whether sending the same request again may succeed and cannot make it take effect twice: the
 * error is transient and its outcome is not `'unknown'` — unless the request carries a client
 * session (`inSession`), which makes an unknown outcome safe to retry under the same sequence.
 */
export function isSafeToRetry(error: unknown, options: { inSession?: boolean } = {}): boolean {
  if (!(error instanceof RaftError) || !transientErrorCodes.has(error.code)) return false;
  return error.details.outcome !== 'unknown' || options.inSession === true;
}

/**
 * Marks every RaftError, from whichever copy of the package made it: an application that ends up
 * with two copies (its own and a plugin's) still recognises both with `instanceof RaftError`. The
 * symbol comes from the global registry, so both copies hold the same one.
 */
const raftErrorBrand: unique symbol = Symbol.for('raftkit.RaftError') as never;

/** The one error class raftkit throws or rejects with. */
export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;
  readonly details: RaftErrorDetails;
  readonly [raftErrorBrand] = true;

  constructor(
    code: RaftErrorCode,
    message: string,
    options: { details?: RaftErrorDetails; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** True for a RaftError of any copy of raftkit; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== RaftError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && raftErrorBrand in value;
  }
}

/** Assertions stay on in production: a broken invariant stops the node rather than corrupt data. */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RaftError('INVARIANT', `invariant violated: ${message}`);
}

/** Causes followed by {@link formatErrorChain}; a longer chain is cut, a cycle is stopped. */
const causeDepthMax = 8;

/**
 * Describes an error and every cause behind it, one line each: `STORAGE_FAILED storage save
 * failed`, then `  caused by: ENOSPC no space left on device`. A wrapped error's own message rarely
 * says what went wrong underneath, so apps print this wherever they report an error.
 */
export function formatErrorChain(error: unknown): string {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && lines.length <= causeDepthMax) {
    if (seen.has(current)) break;
    seen.add(current);
    lines.push(`${lines.length === 0 ? '' : '  caused by: '}${describeOne(current)}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n');
}

function describeOne(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const label = typeof code === 'string' && code.length > 0 ? code : error.name;
  return error.message.length > 0 ? `${label} ${error.message}` : label;
}
