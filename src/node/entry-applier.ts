import { RaftError, type Entry, type SessionEntry } from '../core/index.js';
import type { LogStorage } from '../storage/log-storage.js';
import type { Clock } from '../platform/clock.js';
import type { NodeCounters } from './node-counters.js';
import { SessionTable } from './session-table.js';
import type { ApplyContext, StateMachine } from './state-machine.js';

/**
 * The outcome of an entry whose client session refused its command (docs/sessions.md): its
 * caller gets `error` instead of a result.
 */
export class SessionRefusal {
  constructor(readonly error: RaftError) {}
}

/**
 * What applying each entry of a batch gave, position by position: what `apply` returned, the
 * session's earlier answer for a duplicate, a {@link SessionRefusal}, or `undefined` for entries
 * that are not commands. A plain array of results rather than a record per entry: every server
 * makes one per entry it applies.
 */
export type AppliedResults = unknown[];

/** How the applier treats a state machine that throws. */
export interface ApplyPolicy {
  /** Commands may be applied again after a failure, so failed applies are retried. */
  readonly idempotentCommands: boolean;
  readonly applyAttemptsMax: number;
  /** Delay before the first retry; it doubles with each attempt. */
  readonly applyRetryDelayMs: number;
}

/** What the applier needs: the state machine, a clock for retry delays, and where to mark failure. */
export interface EntryApplierOptions {
  readonly stateMachine: StateMachine<unknown, unknown, unknown>;
  readonly storage: Pick<LogStorage, 'setBroken'>;
  readonly clock: Clock;
  readonly policy: ApplyPolicy;
  readonly counters: NodeCounters;
}

/**
 * Applies committed entries to the state machine in log order and returns their results; the
 * node settles callers and publishes events from what it returns. A failed apply that the policy
 * cannot retry throws `APPLY_FAILED`: the node must stop, and marks storage broken on its way.
 */
export class EntryApplier {
  readonly #options: EntryApplierOptions;
  #appliedIndex = 0;
  /** Why an apply failed for good, to be written as the storage's broken mark; null if none. */
  #brokenReason: string | null = null;
  /** Replicated with the log like the state machine, and kept beside it: docs/sessions.md. */
  readonly sessions = new SessionTable();

  constructor(options: EntryApplierOptions) {
    this.#options = options;
  }

  /** The index of the last entry the state machine has applied. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** Sets where applying resumes after a restart (the snapshot or the state machine's own mark). */
  restore(appliedIndex: number): void {
    this.#appliedIndex = appliedIndex;
  }

  /**
   * Applies a batch in order and returns the results together, so callers resolved from them make
   * their follow-up proposals in one turn. With a synchronous state machine the whole batch is
   * applied at once and the results come back as a plain array, with no promise and no microtask
   * hop (a hop per entry would also let callers slip in between and split the next batch); from
   * the first entry whose apply is asynchronous or fails on, the rest is awaited in order.
   */
  apply(entries: readonly Entry[]): AppliedResults | Promise<AppliedResults> {
    const results: AppliedResults = new Array<unknown>(entries.length);
    for (let position = 0; position < entries.length; position++) {
      const entry = entries[position]!;
      const outcome = this.#applyEntry(entry);
      if (outcome instanceof Promise) return this.#applyRest(entries, position, results, outcome);
      results[position] = outcome;
      this.#appliedIndex = entry.index;
    }
    this.#options.counters.entriesApplied += entries.length;
    return results;
  }

  /** Finishes a batch from the entry at `position`, whose apply is under way as `pending`. */
  async #applyRest(
    entries: readonly Entry[],
    position: number,
    results: AppliedResults,
    pending: Promise<unknown>,
  ): Promise<AppliedResults> {
    let outcome: unknown = pending;
    for (;;) {
      results[position] = outcome instanceof Promise ? await outcome : outcome;
      this.#appliedIndex = entries[position]!.index;
      if (++position === entries.length) break;
      outcome = this.#applyEntry(entries[position]!);
    }
    this.#options.counters.entriesApplied += entries.length;
    return results;
  }

  /**
   * One entry: its result at once when everything it calls is synchronous, else a promise of it.
   * (A result is never a promise itself: a state machine's promise is awaited here.)
   */
  #applyEntry(entry: Entry): unknown {
    // The entry is its own context (it has the index and term, and is never changed): a record
    // per entry on every server was a tenth of what applying allocated.
    const context: ApplyContext = entry;
    if (entry.kind === 'command') {
      const result = this.#applyOnce(entry.data, context);
      if (!(result instanceof Failure || isPromiseLike(result))) return result;
      return this.#applyWithPolicy(entry.data, context, result);
    }
    if (entry.kind === 'session') return this.#applySession(entry, context);
    return this.#afterSkip(context, undefined);
  }

  /** A session entry: the table decides whether the state machine sees its command at all. */
  #applySession(entry: SessionEntry, context: ApplyContext): unknown {
    const outcome = this.sessions.apply(entry);
    if (outcome.kind !== 'apply') {
      if (outcome.kind === 'refuse') this.#options.counters.sessionCommandsRefused++;
      else if (outcome.duplicate) this.#options.counters.sessionAnswersReplayed++;
      return this.#afterSkip(
        context,
        outcome.kind === 'refuse' ? new SessionRefusal(outcome.error) : outcome.result,
      );
    }
    const { sessionId, sequence } = outcome;
    const result = this.#applyOnce(outcome.command, context);
    if (!(result instanceof Failure || isPromiseLike(result))) {
      this.sessions.record(sessionId, sequence, result);
      return result;
    }
    return this.#applyWithPolicy(outcome.command, context, result).then((value) => {
      this.sessions.record(sessionId, sequence, value);
      return value;
    });
  }

  /** Tells the state machine an index passed without a command for it, then gives `done`. */
  #afterSkip(context: ApplyContext, done: unknown): unknown {
    const skipped = this.#options.stateMachine.skip?.(context);
    return isPromiseLike(skipped) ? Promise.resolve(skipped).then(() => done) : done;
  }

  /** One synchronous attempt: the result, a promise of it, or a `Failure` holding what it threw. */
  #applyOnce(command: Uint8Array, context: ApplyContext): unknown {
    try {
      return this.#options.stateMachine.apply(command, context);
    } catch (error) {
      return new Failure(error);
    }
  }

  /**
   * Finishes an apply that is asynchronous or failed, under the failure policy: retry if the
   * commands are idempotent, otherwise stop the node.
   */
  async #applyWithPolicy(
    command: Uint8Array,
    context: ApplyContext,
    first: unknown,
  ): Promise<unknown> {
    const { idempotentCommands, applyAttemptsMax, applyRetryDelayMs } = this.#options.policy;
    const attempts = idempotentCommands ? applyAttemptsMax : 1;
    let outcome = first;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.#options.counters.applyRetries++;
        await sleep(this.#options.clock, applyRetryDelayMs * 2 ** (attempt - 1));
        outcome = this.#applyOnce(command, context);
      }
      try {
        const value = isPromiseLike(outcome) ? await outcome : outcome;
        if (!(value instanceof Failure)) return value;
        lastError = value.error;
      } catch (error) {
        lastError = error;
      }
    }
    const failure = new RaftError(
      'APPLY_FAILED',
      `applying entry ${context.index} failed${idempotentCommands ? ` after ${attempts} attempts` : ''}; the node stops`,
      { cause: lastError, details: { index: context.index, term: context.term } },
    );
    // Storage is not marked here: a save may be in flight, and storage calls are never
    // concurrent. The node marks it once its pipeline is idle (`markBroken`).
    this.#brokenReason ??= `${failure.message}: ${String(lastError)}`;
    throw failure;
  }

  /**
   * Durably marks storage broken if an apply failed, so the node refuses to start on it until
   * `clearBrokenMark`. Called by the stopping node once nothing else touches storage; a failure
   * to write the mark is swallowed (the node is stopping with `APPLY_FAILED` anyway).
   */
  async markBroken(): Promise<void> {
    if (this.#brokenReason === null) return;
    await this.#options.storage.setBroken(this.#brokenReason).catch(() => undefined);
  }
}

/** Resolves after `ms` of the given clock (real or simulated). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.schedule(ms, resolve));
}

/** Waits while `busy` holds, for at most `stopDrainMs`, checking every tick (or sooner). */
export async function waitWhile(
  options: { readonly clock: Clock; readonly stopDrainMs: number; readonly tickMs: number },
  busy: () => boolean,
): Promise<void> {
  const { clock, stopDrainMs, tickMs } = options;
  const deadline = clock.now() + stopDrainMs;
  const stepMs = Math.max(1, Math.min(tickMs, stopDrainMs / 10));
  while (busy() && clock.now() < deadline) await sleep(clock, stepMs);
}

/** What a synchronous apply threw, kept as a value so the fast path needs no try around awaits. */
class Failure {
  constructor(readonly error: unknown) {}
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
