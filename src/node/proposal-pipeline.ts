import {
  RaftError,
  type Entry,
  type PlacedProposals,
  type SessionEntryDraft,
} from '../core/index.js';
import type { SessionTag } from '../transport/transport.js';
import { CommandRejection, rejectedError } from './command-rejection.js';
import { SessionRefusal } from './entry-applier.js';
import { replacedError } from './node-errors.js';
import type { CallerPromise } from './pending-request.js';
import { LogWaiters } from './log-waiters.js';
import type { ProposalRequest } from './proposal-request.js';
import { TurnBatch } from './turn-batch.js';

/** The leader's log as the pipeline sees it: where a turn's proposals are appended. */
export interface ProposalLog {
  /**
   * Appends `commands` as consecutive entries and says where, or returns the error their callers
   * get when they cannot be appended now (this server no longer leads, or has stopped).
   */
  append(commands: readonly (Uint8Array | SessionEntryDraft)[]): PlacedProposals | RaftError;
}

/** Builds a tagged proposal's log entry at the moment the leader appends it (it stamps the time). */
export type SessionStamper = (tag: SessionTag, command: Uint8Array) => SessionEntryDraft;

/**
 * The leader's write path: proposals of one turn are appended together (split at `batchMax`), and
 * each caller waits by log index until its entry is applied — or replaced by another term's entry.
 */
export class ProposalPipeline {
  readonly #log: ProposalLog;
  readonly #batchMax: number;
  readonly #queue = new TurnBatch<ProposalRequest>((queued) => this.#flush(queued));
  /** Callers waiting for the entry their command became, as long as that entry has their term. */
  readonly #waiters = new LogWaiters<CallerPromise<unknown>>();
  readonly #stampSession: SessionStamper;

  constructor(options: {
    readonly log: ProposalLog;
    readonly batchMax: number;
    readonly stampSession: SessionStamper;
  }) {
    this.#log = options.log;
    this.#batchMax = options.batchMax;
    this.#stampSession = options.stampSession;
  }

  /** Proposals queued or waiting for their entry, for the node's admission limit. */
  get pendingCount(): number {
    return this.#queue.length + this.#waiters.size;
  }

  /** Callers whose entry is in the log but not yet applied. */
  get waitingCount(): number {
    return this.#waiters.size;
  }

  /** Queues a proposal; every proposal of the same turn joins one append. */
  enqueue(queued: ProposalRequest): Promise<unknown> {
    this.#queue.push(queued);
    return queued.promise;
  }

  #flush(queued: readonly ProposalRequest[]): void {
    // Plain loops: a turn holds up to thousands of proposals, and an array and a closure per step
    // of the way (filter, slice, map, forEach) were a visible share of the leader's allocation.
    const live = unsettled(queued);
    for (let start = 0; start < live.length; start += this.#batchMax) {
      const end = Math.min(start + this.#batchMax, live.length);
      const commands = new Array<Uint8Array | SessionEntryDraft>(end - start);
      for (let position = start; position < end; position++) {
        const { command, session } = live[position]!;
        commands[position - start] =
          session === undefined ? command : this.#stampSession(session, command);
      }
      const placement = this.#log.append(commands);
      for (let position = start; position < end; position++) {
        const proposal = live[position]!;
        if (placement instanceof RaftError) {
          proposal.reject(placement);
          continue;
        }
        proposal.placed = true;
        this.waitForEntry(placement.firstIndex + position - start, placement.term, proposal);
      }
    }
  }

  /** Settles `request` when the entry at `index` is applied, if it is still the one of `term`. */
  waitForEntry(index: number, term: number, request: CallerPromise<unknown>): void {
    // A waiter already at this index belongs to an earlier term whose entry was truncated away
    // before it was applied here: this server now leads with a different entry at that index.
    this.#waiters.get(index)?.reject(replacedError(index));
    this.#waiters.set(index, term, request);
  }

  /** Settles the caller waiting for `entry`, if any, with what applying it gave. */
  settle(entry: Entry, result: unknown): void {
    if (this.#waiters.size === 0) return; // a follower's every entry, and an idle leader's
    const term = this.#waiters.termAt(entry.index);
    const request = this.#waiters.take(entry.index);
    if (request === undefined) return;
    if (entry.term !== term) request.reject(replacedError(entry.index));
    else if (result instanceof SessionRefusal) request.reject(result.error);
    else if (result instanceof CommandRejection) request.reject(rejectedError(result, entry));
    else request.resolve(result);
  }

  /** Takes the proposals not yet appended, for the node to refuse (lost office, stop). */
  takeQueued(): ProposalRequest[] {
    return this.#queue.take();
  }

  /** Rejects every caller whose entry is in the log but not applied. */
  failWaiters(error: RaftError): void {
    for (const request of this.#waiters.takeAll()) request.reject(error);
  }
}

/**
 * The proposals of a turn not settled while queued (deadline, abort): the turn's own array when
 * none was, the usual case, rather than a copy of it built one push at a time.
 */
function unsettled(queued: readonly ProposalRequest[]): readonly ProposalRequest[] {
  let position = 0;
  while (position < queued.length && !queued[position]!.settled) position++;
  if (position === queued.length) return queued;
  const live = queued.slice(0, position);
  for (position++; position < queued.length; position++) {
    const proposal = queued[position]!;
    if (!proposal.settled) live.push(proposal);
  }
  return live;
}
