import { isSafeToRetry, positiveIntegerOption, RaftError } from '../core/index.js';
import type { Clock } from '../platform/clock.js';
import { sleep } from './entry-applier.js';
import {
  noOptions,
  type CommandOptions,
  type ProposeOptions,
  type SessionStamp,
} from './request-options.js';

/** Where a {@link ClientSession} sends its commands: a node, or a router over several. */
export interface SessionHost {
  /** The clock retries wait on (the node's, so a simulated cluster stays deterministic). */
  readonly clock: Clock;
  propose(command: Uint8Array, options: CommandOptions): Promise<unknown>;
  /** Registers a new session through the log and resolves with its id. */
  registerSession(options: ProposeOptions): Promise<number>;
}

/** How a {@link ClientSession} retries. */
export interface ClientSessionOptions {
  /** Attempts of one command at most, the first included. Default 20. */
  readonly attemptsMax?: number;
  /** Wait before the first retry, doubled after each, up to `retryDelayMsMax`. Default 20 ms. */
  readonly retryDelayMs?: number;
  /** Default 1,000 ms. */
  readonly retryDelayMsMax?: number;
  /**
   * Commands sent and not yet answered at most; more wait for a slot. Keep it at or below the
   * cluster's `sessions.resultsMax`, so the cluster never forgets a result its client still needs.
   * Default 256.
   */
  readonly unansweredMax?: number;
}

/** Per-call options of {@link ClientSession.propose}. */
export interface SessionProposeOptions extends ProposeOptions {
  /**
   * The command gives up after this long over all its attempts, retry waits included: each
   * attempt waits at most `timeoutMs` (without it, everything that is left), cut to what is left,
   * and no retry starts once nothing is. It ends like the last attempt allowed does (`TIMEOUT`
   * before the log, `OUTCOME_UNKNOWN` once in it). A whole-command deadline that, unlike a
   * `signal`, costs no timer, listener or signal per call.
   */
  readonly totalTimeoutMs?: number;
}

/**
 * A client session (Raft thesis §6.3): numbers each command, and retries one whose outcome is
 * unknown under the same number, so the cluster applies it at most once and answers the retry with
 * the first result. Open one with `node.openSession()`; see docs/sessions.md.
 *
 * A session whose registration expired is renewed by itself when that is safe: a command refused
 * with `SESSION_EXPIRED` before any attempt of it could have entered the log is proposed again
 * under the new session. One that may have applied rejects with `SESSION_EXPIRED` (details
 * `outcome: 'unknown'`): the cluster no longer remembers enough to say.
 */
export class ClientSession<Result = unknown> {
  readonly #host: SessionHost;
  readonly #attemptsMax: number;
  readonly #retryDelayMs: number;
  readonly #retryDelayMsMax: number;
  readonly #unansweredMax: number;
  #sessionId: number;
  #nextSequence = 1;
  /** Sequences sent and not yet answered, for the acknowledgement each command carries. */
  readonly #unanswered = new Set<number>();
  /** Every sequence below it is answered: where the search for the lowest unanswered starts. */
  #lowestCandidate = 1;
  /** Callers waiting for a slot under `unansweredMax`, bounded by the node's own admission. */
  readonly #waitingForSlot: (() => void)[] = [];
  #renewal: Promise<number> | null = null;

  constructor(host: SessionHost, sessionId: number, options: ClientSessionOptions = {}) {
    this.#host = host;
    this.#sessionId = sessionId;
    this.#attemptsMax = positiveIntegerOption('attemptsMax', options.attemptsMax ?? 20);
    this.#retryDelayMs = positiveIntegerOption('retryDelayMs', options.retryDelayMs ?? 20);
    this.#retryDelayMsMax = positiveIntegerOption(
      'retryDelayMsMax',
      options.retryDelayMsMax ?? 1000,
    );
    this.#unansweredMax = positiveIntegerOption('unansweredMax', options.unansweredMax ?? 256);
  }

  /** Registers a session through `host` and returns its client. */
  static async open<Result>(
    host: SessionHost,
    options: ClientSessionOptions & ProposeOptions = {},
  ): Promise<ClientSession<Result>> {
    const sessionId = await host.registerSession(proposeOptionsOf(options));
    return new ClientSession<Result>(host, sessionId, options);
  }

  /** The session's id in the cluster: the log index of its registration. */
  get id(): number {
    return this.#sessionId;
  }

  /** Commands sent and not yet answered. */
  get unansweredCount(): number {
    return this.#unanswered.size;
  }

  /**
   * Proposes `command` under this session and resolves with the state machine's result, applied
   * exactly once however many attempts it took. Rejects with `OUTCOME_UNKNOWN` only when every
   * attempt allowed ran out without learning the outcome, `SESSION_EXPIRED` as described above,
   * and as `propose` does for anything that cannot be retried (`ABORTED`, `STOPPED`, …).
   */
  async propose(command: Uint8Array, options: SessionProposeOptions = noOptions): Promise<Result> {
    const clock = this.#host.clock;
    const deadline = clock.now() + totalTimeoutOf(options);
    while (this.#unanswered.size >= this.#unansweredMax) {
      await new Promise<void>((resolve) => this.#waitingForSlot.push(resolve));
    }
    let sequence = this.#nextSequence++;
    this.#unanswered.add(sequence);
    let mayHaveApplied = false;
    let delayMs = this.#retryDelayMs;
    try {
      for (let attempt = 1; ; attempt++) {
        const session = { id: this.#sessionId, sequence, lowestUnacknowledged: this.#lowest() };
        try {
          return (await this.#host.propose(
            command,
            attemptOptions(options, deadline - clock.now(), session),
          )) as Result;
        } catch (error) {
          if (!(error instanceof RaftError)) throw error;
          if (error.details.outcome === 'unknown') mayHaveApplied = true;
          if (error.code === 'SESSION_EXPIRED') {
            if (mayHaveApplied) throw expiredWithUnknownOutcome(error, session.id, sequence);
            // Nothing of this command applied anywhere: it is new to the renewed session.
            await this.#renew(session.id, attemptOptions(options, deadline - clock.now()));
            this.#unanswered.delete(sequence);
            sequence = this.#nextSequence++;
            this.#unanswered.add(sequence);
          } else if (!isSafeToRetry(error, { inSession: true })) {
            throw error;
          }
          const outOfTime = options.signal?.aborted === true || clock.now() + delayMs >= deadline;
          if (attempt >= this.#attemptsMax || outOfTime) {
            throw mayHaveApplied ? unknownOutcome(error, session.id, sequence, attempt) : error;
          }
        }
        await sleep(clock, delayMs);
        delayMs = Math.min(delayMs * 2, this.#retryDelayMsMax);
      }
    } finally {
      // Answered or given up on: either way the cluster may drop its result. A late copy of a
      // command given up on then finds its sequence below the acknowledgement and is refused.
      this.#unanswered.delete(sequence);
      this.#waitingForSlot.shift()?.();
    }
  }

  /** The lowest sequence without an answer: the cluster may forget every result below it. */
  #lowest(): number {
    // Sequences are handed out in increasing order and never again once answered, so the lowest
    // only moves up, one answered sequence at a time: no iterator and result object per command,
    // which reading the Set's first entry made.
    while (
      this.#lowestCandidate < this.#nextSequence &&
      !this.#unanswered.has(this.#lowestCandidate)
    ) {
      this.#lowestCandidate++;
    }
    return this.#lowestCandidate;
  }

  /** Registers a new session once, however many commands found the old one expired. */
  async #renew(expiredId: number, options: ProposeOptions): Promise<void> {
    if (this.#sessionId !== expiredId) return;
    this.#renewal ??= this.#host.registerSession(proposeOptionsOf(options));
    try {
      this.#sessionId = await this.#renewal;
    } finally {
      this.#renewal = null;
    }
  }
}

function proposeOptionsOf(options: ProposeOptions): ProposeOptions {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}

/** The whole command's time, validated once per call; unbounded without `totalTimeoutMs`. */
function totalTimeoutOf(options: SessionProposeOptions): number {
  const { totalTimeoutMs } = options;
  if (totalTimeoutMs === undefined) return Infinity;
  if (Number.isFinite(totalTimeoutMs) && totalTimeoutMs > 0) return totalTimeoutMs;
  throw new RaftError(
    'INVALID_CONFIG',
    `totalTimeoutMs must be a positive number of milliseconds, got ${String(totalTimeoutMs)}`,
    { details: { option: 'totalTimeoutMs', outcome: 'not-applied' } },
  );
}

/**
 * One attempt's options: the caller's signal, and its timeout cut to the `remainingMs` of the
 * whole command. Always the same shape (absent options are undefined), so the node's checks on
 * it see one kind of object.
 */
function attemptOptions(
  options: ProposeOptions,
  remainingMs: number,
  session?: SessionStamp,
): CommandOptions {
  const { timeoutMs } = options;
  const cut =
    remainingMs === Infinity
      ? timeoutMs
      : Math.max(1, Math.ceil(Math.min(timeoutMs ?? Infinity, remainingMs)));
  return { signal: options.signal, timeoutMs: cut, session } as CommandOptions;
}

function unknownOutcome(cause: RaftError, sessionId: number, sequence: number, attempts: number) {
  return new RaftError(
    'OUTCOME_UNKNOWN',
    `command ${sequence} of session ${sessionId} got no known outcome in ${attempts} attempts; if it applies, it applies once`,
    { cause, details: { sessionId, sequence, outcome: 'unknown' } },
  );
}

function expiredWithUnknownOutcome(cause: RaftError, sessionId: number, sequence: number) {
  return new RaftError(
    'SESSION_EXPIRED',
    `session ${sessionId} expired while command ${sequence} was being retried; it may or may not have applied`,
    { cause, details: { sessionId, sequence, outcome: 'unknown' } },
  );
}
