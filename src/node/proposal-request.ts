import type { RaftError } from '../core/index.js';
import type { SessionTag } from '../transport/transport.js';
import type { Deadlines } from './deadlines.js';
import type { NodeCounters } from './node-counters.js';
import { cancelledBeforeLog, cancelledInLog, type CancelReason } from './node-errors.js';
import { CallerPromise } from './pending-request.js';
import type { ProposeOptions } from './request-options.js';

/** What every proposal of one node shares. */
export interface ProposalContext {
  readonly deadlines: Deadlines;
  /** The deadline of a proposal whose options set none. */
  readonly requestTimeoutMs: number;
  readonly counters: NodeCounters;
}

/**
 * One proposal: its command and the caller's promise in one object. A node makes one per command
 * it is asked to replicate, so the request, its queue entry and its cancellation rule are one
 * allocation rather than a record, a promise holder and a closure each.
 */
export class ProposalRequest extends CallerPromise<unknown> {
  readonly command: Uint8Array;
  /** The client session the command belongs to; none for a plain command (no envelope). */
  readonly session: SessionTag | undefined;
  /** Set once the command is in the leader's log (or sent to the leader, which may append it). */
  placed = false;
  readonly #counters: NodeCounters;

  constructor(
    command: Uint8Array,
    session: SessionTag | undefined,
    context: ProposalContext,
    options: ProposeOptions,
  ) {
    super(context.deadlines, options.timeoutMs ?? context.requestTimeoutMs, options.signal);
    this.command = command;
    this.session = session;
    this.#counters = context.counters;
  }

  protected override cancelError(reason: CancelReason): RaftError {
    return proposalCancelError(reason, this.placed, this.#counters);
  }
}

/** Before the log a cancelled command will never apply; once placed its fate is unknown. */
export function proposalCancelError(
  reason: CancelReason,
  placed: boolean,
  counters: NodeCounters,
): RaftError {
  counters.proposalsCancelled++;
  return placed ? cancelledInLog(reason) : cancelledBeforeLog(reason);
}
