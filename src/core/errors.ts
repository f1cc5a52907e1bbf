import type { Configuration, NodeId } from './types.js';

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

/**
 * Facts any error may carry, whatever its code. `outcome` is set on every refusal of a request (a
 * write, a read, a membership or settings change); `forwardedTo` and `leaderId` on an error that
 * a follower received from the leader for a command it forwarded.
 */
export interface RaftErrorCommonDetails {
  /** What the failed request did to the replicated state. */
  readonly outcome?: RequestOutcome;
  /** The server (the leader of the moment) that refused a forwarded command. */
  readonly forwardedTo?: NodeId;
  /** The leader the answering server knew, as a hint of where to send the request next. */
  readonly leaderId?: NodeId | null;
}

/**
 * The positions and sizes that broke a rule about the stored log or a call on it, by name: a
 * corrupt store reports the marks that do not fit together, a broken contract the arguments.
 */
export interface LogFacts {
  readonly index?: number;
  readonly term?: number;
  readonly firstIndex?: number;
  readonly lastIndex?: number;
  readonly snapshotIndex?: number;
  readonly appliedIndex?: number;
  readonly publishedIndex?: number;
  readonly expectedIndex?: number;
  readonly actualIndex?: number;
  /** A range asked for (`to` excluded), and how many entries of it were found. */
  readonly from?: number;
  readonly to?: number;
  readonly found?: number;
  readonly count?: number;
  /** A stored commit or applied mark. */
  readonly commit?: number;
  readonly applied?: number;
  readonly offset?: number;
  readonly bytesMax?: number;
  readonly payloadBytesMax?: number;
  readonly checksum?: number;
}

/** A refusal of a request: it says what the request did to the replicated state. */
export interface RefusalDetails {
  readonly outcome: RequestOutcome;
}

/**
 * The facts attached to each code, beside {@link RaftErrorCommonDetails}. Narrow an error with
 * {@link isRaftError} to read them typed: `if (isRaftError(error, 'NOT_LEADER'))
 * error.details.leaderId`.
 */
export interface RaftErrorDetailsByCode {
  readonly INVALID_CONFIG: {
    /** The setting or argument at fault (`electionTicks`, `sessions.sessionsMax`, `target`). */
    readonly option?: string;
    /** The value refused, when one was given. */
    readonly value?: unknown;
  };
  readonly NOT_LEADER: RefusalDetails & {
    readonly leaderId: NodeId | null;
    /** The leader's address from the configuration, when the node knows it. */
    readonly leaderAddress?: string | null;
  };
  readonly NO_LEADER: RefusalDetails & { readonly leaderId: null };
  readonly PROPOSAL_DROPPED: RefusalDetails & {
    /** The uncommitted bytes that made the leader refuse (`uncommittedBytesMax`). */
    readonly uncommittedBytes?: number;
    /**
     * For a batch (`proposeBatch`) a new leader cut from the log: how many of its first commands
     * were applied before the cut; the rest were not.
     */
    readonly appliedCommands?: number;
  };
  readonly OUTCOME_UNKNOWN: RefusalDetails & {
    /**
     * What ended the wait: `timeout`, `aborted`, `stopped` or `leader-changed` (also when a
     * snapshot from the new leader was installed over the entry before it applied here).
     */
    readonly reason?: string;
    readonly sessionId?: number;
    readonly sequence?: number;
  };
  readonly TIMEOUT: Partial<RefusalDetails>;
  readonly ABORTED: Partial<RefusalDetails>;
  readonly STOPPED: Partial<RefusalDetails>;
  readonly STORAGE_FAILED: {
    /** The storage directory that could not be used. */
    readonly directory?: string;
  };
  readonly CORRUPT_STORAGE: LogFacts & {
    /** The damaged file; `offset` is the byte where the damage starts (file storage). */
    readonly file?: string;
  };
  readonly LOCKED: {
    readonly directory: string;
    /** The live process that holds the lock, when another process does. */
    readonly pid?: number;
  };
  readonly APPLY_FAILED: {
    /** The entry whose application failed. */
    readonly index?: number;
    readonly term?: number;
    /** The failure recorded in the storage's broken mark. */
    readonly reason?: string;
  };
  readonly COMMAND_REJECTED: RefusalDetails & {
    /** The application's code, from `rejectCommand(reason)`. */
    readonly reason: string;
    /** The log entry that holds the rejected command (unknown for a forwarded command). */
    readonly index?: number;
    readonly term?: number;
  };
  readonly INVALID_MESSAGE: Partial<RefusalDetails> & {
    /** What was wrong, in a word or a phrase. */
    readonly reason?: string;
    /** The sender and type of a dropped message. */
    readonly from?: NodeId;
    readonly type?: string;
    readonly frameBytes?: number;
    readonly version?: number;
    /** An error code a peer sent that this version does not know (cut to 64 characters). */
    readonly code?: string;
    /** Where a parsed text went wrong. */
    readonly line?: number;
    readonly column?: number;
    readonly sessionId?: number;
    readonly sequence?: number;
  };
  readonly UNKNOWN_PEER: Record<never, never>;
  readonly UNAUTHENTICATED: Record<never, never>;
  readonly BUSY: Partial<RefusalDetails> & {
    /** The bound that was reached, for a bounded recorder. */
    readonly operationsMax?: number;
  };
  readonly INVARIANT: LogFacts;
  readonly CHANGE_IN_PROGRESS: RefusalDetails & {
    /** The membership operation still under way. */
    readonly operation?: string;
    /** The configuration entry not committed yet. */
    readonly index?: number;
  };
  readonly UNSAFE_CHANGE: RefusalDetails & {
    readonly current: Configuration;
    readonly next: Configuration;
  };
  readonly CATCH_UP_FAILED: RefusalDetails & {
    /** The learner, the index it reached, the leader's last index and the rounds it was given. */
    readonly id: NodeId;
    readonly match: number;
    readonly lastIndex: number;
    readonly rounds: number;
  };
  readonly DATA_LOST: {
    /** The member that came back empty (seen by the member it asked to join). */
    readonly id?: NodeId;
    /** The member that refused this server (seen by the server that came back empty). */
    readonly contact?: NodeId;
  };
  readonly SESSION_EXPIRED: RefusalDetails & {
    readonly sessionId?: number;
    readonly sequence?: number;
  };
  readonly RESULT_DISCARDED: RefusalDetails & {
    readonly sessionId?: number;
    readonly sequence?: number;
  };
}

/** The details of an error with code `C`: the facts of that code and the common ones. */
export type RaftErrorDetailsOf<C extends RaftErrorCode> = RaftErrorCommonDetails &
  RaftErrorDetailsByCode[C];

/**
 * The details of an error whose code is not narrowed: the common fields read directly
 * (`error.details.outcome`), the others once {@link isRaftError} has narrowed the code.
 */
export type RaftErrorDetails = RaftErrorDetailsOf<RaftErrorCode>;

/** A code whose details have no required field, so an error of it may be made without details. */
type OptionalDetailsCode = {
  [C in RaftErrorCode]: Record<never, never> extends RaftErrorDetailsOf<C> ? C : never;
}[RaftErrorCode];

/** What a `RaftError` is made with: its details (required where its code needs some) and cause. */
export type RaftErrorOptions<C extends RaftErrorCode> = {
  readonly details?: RaftErrorDetailsOf<C>;
  readonly cause?: unknown;
} & (C extends OptionalDetailsCode ? unknown : { readonly details: RaftErrorDetailsOf<C> });

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

/**
 * The one error class raftkit throws or rejects with. `C` is its code when known: a
 * `RaftError<'NOT_LEADER'>` has exactly the details of that code, a plain `RaftError` the details
 * of any code. {@link isRaftError} narrows one to the other.
 */
export class RaftError<out C extends RaftErrorCode = RaftErrorCode> extends Error {
  override readonly name = 'RaftError';
  readonly code: C;
  readonly details: RaftErrorDetailsOf<C>;
  readonly [raftErrorBrand] = true;

  constructor(
    code: C,
    message: string,
    ...[options]: C extends OptionalDetailsCode
      ? [options?: RaftErrorOptions<C>]
      : [options: RaftErrorOptions<C>]
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // The signature requires details wherever the code has a required field, so the empty
    // object stands only for codes whose fields are all optional.
    this.details = (options?.details ?? {}) as RaftErrorDetailsOf<C>;
  }

  /**
   * True for a RaftError of any copy of raftkit; subclasses keep the ordinary prototype check.
   * As a type guard it narrows to a `RaftError` of any code, rather than the `RaftError<any>` a
   * generic class would otherwise narrow to.
   */
  static override [Symbol.hasInstance](value: unknown): value is RaftError {
    if (this !== RaftError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && raftErrorBrand in value;
  }
}

/**
 * Whether `value` is a RaftError (of any copy of raftkit) and, when codes are given, has one of
 * them. With one code it narrows the details to that code's:
 *
 * ```ts
 * if (isRaftError(error, 'NOT_LEADER')) redirect(error.details.leaderId);
 * ```
 */
export function isRaftError(value: unknown): value is RaftError;
export function isRaftError<C extends RaftErrorCode>(
  value: unknown,
  ...codes: readonly [C, ...C[]]
): value is RaftError<C>;
export function isRaftError(value: unknown, ...codes: readonly RaftErrorCode[]): boolean {
  if (!(value instanceof RaftError)) return false;
  return codes.length === 0 || codes.includes(value.code);
}

/** Assertions stay on in production: a broken invariant stops the node rather than corrupt data. */
/**
 * `PROPOSAL_DROPPED` for a command of `bytes` over `messageBytesMax`: it could never be sent in
 * one message, so it is refused before it reaches the log.
 */
export function commandTooLargeError(bytes: number, messageBytesMax: number): RaftError {
  return new RaftError(
    'PROPOSAL_DROPPED',
    `command of ${bytes} bytes exceeds messageBytesMax (${messageBytesMax})`,
    { details: { outcome: 'not-applied' } },
  );
}

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
