import { RaftError } from '../core/index.js';
import type { NodeCounters } from './node-counters.js';
import type { CancelReason } from './node-errors.js';
import { CallerPromise } from './pending-request.js';
import { proposalCancelError, type ProposalContext } from './proposal-request.js';
import type { ProposeOptions } from './request-options.js';

/**
 * What `proposeBatch` resolves with, one element per command in the order given: the state
 * machine's result for the command's entry, or, for a command the state machine refused with
 * `rejectCommand`, a `COMMAND_REJECTED` error (the other commands of the batch were applied all
 * the same, so the batch does not reject for it).
 */
export type BatchResult<Result> = Result | RaftError<'COMMAND_REJECTED'>;

/**
 * Many commands proposed by one call: appended together as consecutive entries of one term, and
 * answered with one promise once the last of them is applied. It is one caller's request (one
 * deadline, one signal, one waiter object in every slot of its entries), which is what makes a
 * batch cheaper than as many proposals. Its promise resolves with an array of results (typed
 * `unknown` so that it waits in the same slots as a single proposal).
 */
export class ProposalBatch extends CallerPromise<unknown> {
  readonly commands: readonly Uint8Array[];
  /** Set once the commands are in the leader's log, so a cancelled batch's fate is unknown. */
  placed = false;
  /** The log index of the first command, once placed. */
  #firstIndex = 0;
  readonly #results: unknown[];
  /** Results recorded so far; entries apply in index order, so these are the first ones. */
  #appliedCount = 0;
  readonly #counters: NodeCounters;

  constructor(commands: readonly Uint8Array[], context: ProposalContext, options: ProposeOptions) {
    super(context.deadlines, options.timeoutMs ?? context.requestTimeoutMs, options.signal);
    this.commands = commands;
    this.#results = new Array<unknown>(commands.length);
    this.#counters = context.counters;
  }

  /** The commands were appended from `firstIndex` on. */
  placedAt(firstIndex: number): void {
    this.placed = true;
    this.#firstIndex = firstIndex;
  }

  /**
   * The entry at `index` (one of this batch's, in the term it was placed in) was applied and gave
   * `result`; the batch resolves when its last entry is applied.
   */
  applied(index: number, result: unknown): void {
    if (this.settled) return;
    this.#results[index - this.#firstIndex] = result;
    if (++this.#appliedCount === this.#results.length) this.resolve(this.#results);
  }

  /**
   * The entry at `index` holds another term's entry now: this command and every later one of the
   * batch were cut from the log (a log that differs at one index differs at every later one).
   * The commands before it were applied, one by one, unless this server skipped them by
   * installing a snapshot, so the batch rejects saying how many applied when that is known.
   */
  replaced(index: number): void {
    if (this.settled) return;
    const position = index - this.#firstIndex;
    this.reject(batchReplacedError(index, this.#appliedCount === position ? position : null));
  }

  protected override cancelError(reason: CancelReason): RaftError {
    return proposalCancelError(reason, this.placed, this.#counters);
  }
}

/**
 * `PROPOSAL_DROPPED` for a batch a new leader cut from the log at `index`. With none of its
 * commands applied the whole batch may be sent again; with some applied its outcome is `unknown`
 * as a whole, and `details.appliedCommands` says how many of the first ones took effect.
 */
export function batchReplacedError(index: number, appliedCommands: number | null): RaftError {
  if (appliedCommands === 0) {
    return new RaftError(
      'PROPOSAL_DROPPED',
      `entry ${index} was replaced by a new leader; no command of the batch was applied`,
      { details: { outcome: 'not-applied', appliedCommands: 0 } },
    );
  }
  const applied =
    appliedCommands === null
      ? 'some of the commands before it may have been applied'
      : `the first ${appliedCommands} commands of the batch were applied, the rest were not`;
  return new RaftError(
    'PROPOSAL_DROPPED',
    `entry ${index} was replaced by a new leader; ${applied}`,
    {
      details:
        appliedCommands === null ? { outcome: 'unknown' } : { outcome: 'unknown', appliedCommands },
    },
  );
}
