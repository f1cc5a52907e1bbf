import {
  RaftError,
  commandTooLargeError,
  coreDefaults,
  type Entry,
  type RaftCoreOptions,
  type PlacedProposals,
  type SessionEntryDraft,
} from '../core/index.js';
import type { SessionTag } from '../transport/transport.js';
import { CommandRejection, rejectedError } from './command-rejection.js';
import { SessionRefusal } from './entry-applier.js';
import { cancelledInLog, replacedError } from './node-errors.js';
import type { CallerPromise } from './pending-request.js';
import { LogWaiters } from './log-waiters.js';
import { ProposalBatch } from './proposal-batch.js';
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

/** What waits in a turn's queue: one command, or a batch of them that stays in one piece. */
type QueuedProposal = ProposalRequest | ProposalBatch;

/**
 * The leader's write path: proposals of one turn are appended together (split at `batchMax`, never
 * inside a batch), and each caller waits by log index until its entry is applied — or replaced by
 * another term's entry. A batch waits in the slot of each of its entries.
 */
export class ProposalPipeline {
  readonly #log: ProposalLog;
  readonly #batchMax: number;
  readonly #commandBytesMax: number;
  readonly #queue = new TurnBatch<QueuedProposal>((queued) => this.#flush(queued));
  /** Commands of the queued batches beyond their first: the queue counts each batch once. */
  #queuedBatchExtra = 0;
  /** Callers waiting for the entry their command became, as long as that entry has their term. */
  readonly #waiters = new LogWaiters<CallerPromise<unknown>>();
  readonly #stampSession: SessionStamper;

  constructor(options: {
    readonly log: ProposalLog;
    readonly batchMax: number;
    /** The core's `messageBytesMax` (or its default): a larger command is refused alone. */
    readonly core: Pick<RaftCoreOptions, 'messageBytesMax'>;
    readonly stampSession: SessionStamper;
  }) {
    this.#log = options.log;
    this.#batchMax = options.batchMax;
    this.#commandBytesMax = options.core.messageBytesMax ?? coreDefaults.messageBytesMax;
    this.#stampSession = options.stampSession;
  }

  /** Commands queued or waiting for their entry, for the node's admission limit. */
  get pendingCount(): number {
    return this.#queue.length + this.#queuedBatchExtra + this.#waiters.size;
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

  /**
   * Queues a batch; it joins the turn's append in one piece. It must hold from 1 to `batchMax`
   * commands (the node checks that before it admits the batch).
   */
  enqueueBatch(batch: ProposalBatch): Promise<unknown[]> {
    this.#queue.push(batch);
    this.#queuedBatchExtra += batch.commands.length - 1;
    return batch.promise as Promise<unknown[]>;
  }

  #flush(queued: readonly QueuedProposal[]): void {
    this.#queuedBatchExtra = 0;
    // Plain loops: a turn holds up to thousands of proposals, and an array and a closure per step
    // of the way (filter, slice, map, forEach) were a visible share of the leader's allocation.
    const live = admissible(queued, this.#commandBytesMax);
    let start = 0;
    while (start < live.length) {
      let end = start;
      let count = 0;
      // A part ends where the next proposal would take it past batchMax; a batch is never split.
      while (end < live.length) {
        const size = sizeOf(live[end]!);
        if (end > start && count + size > this.#batchMax) break;
        count += size;
        end++;
      }
      this.#append(live, start, end, count);
      start = end;
    }
  }

  /** Appends `live[start..end)`, `count` commands, as one piece, and makes each caller wait. */
  #append(live: readonly QueuedProposal[], start: number, end: number, count: number): void {
    const commands = new Array<Uint8Array | SessionEntryDraft>(count);
    let next = 0;
    for (let position = start; position < end; position++) {
      const proposal = live[position]!;
      if (proposal instanceof ProposalBatch) {
        for (const command of proposal.commands) commands[next++] = command;
        continue;
      }
      const { command, session } = proposal;
      commands[next++] = session === undefined ? command : this.#stampSession(session, command);
    }
    const placement = this.#log.append(commands);
    let index = placement instanceof RaftError ? 0 : placement.firstIndex;
    for (let position = start; position < end; position++) {
      const proposal = live[position]!;
      if (placement instanceof RaftError) {
        proposal.reject(placement);
        continue;
      }
      if (proposal instanceof ProposalBatch) {
        proposal.placedAt(index);
        for (let count = proposal.commands.length; count > 0; count--) {
          this.waitForEntry(index++, placement.term, proposal);
        }
        continue;
      }
      proposal.placed = true;
      this.waitForEntry(index++, placement.term, proposal);
    }
  }

  /** Settles `request` when the entry at `index` is applied, if it is still the one of `term`. */
  waitForEntry(index: number, term: number, request: CallerPromise<unknown>): void {
    // A waiter already at this index belongs to an earlier term whose entry was truncated away
    // before it was applied here: this server now leads with a different entry at that index.
    const earlier = this.#waiters.get(index);
    if (earlier !== undefined) refuseReplaced(earlier, index);
    this.#waiters.set(index, term, request);
  }

  /** Settles the caller waiting for `entry`, if any, with what applying it gave. */
  settle(entry: Entry, result: unknown): void {
    if (this.#waiters.size === 0) return; // a follower's every entry, and an idle leader's
    const term = this.#waiters.termAt(entry.index);
    const request = this.#waiters.take(entry.index);
    if (request === undefined) return;
    if (entry.term !== term) refuseReplaced(request, entry.index);
    else if (request instanceof ProposalBatch) {
      // A refused command is that command's answer; the rest of its batch applied all the same.
      request.applied(
        entry.index,
        result instanceof CommandRejection ? rejectedError(result, entry) : result,
      );
    } else if (result instanceof SessionRefusal) request.reject(result.error);
    else if (result instanceof CommandRejection) request.reject(rejectedError(result, entry));
    else request.resolve(result);
  }

  /**
   * A snapshot installed here covers the log through `index`: the entries up to it will never be
   * applied on this server, so their callers stop waiting. The snapshot came from another leader,
   * so each of those entries may be in it or may have been replaced: the outcome is unknown.
   */
  skippedThrough(index: number): void {
    for (const request of this.#waiters.takeThrough(index)) {
      request.reject(cancelledInLog('leader-changed'));
    }
  }

  /** Takes the proposals not yet appended, for the node to refuse (lost office, stop). */
  takeQueued(): QueuedProposal[] {
    this.#queuedBatchExtra = 0;
    return this.#queue.take();
  }

  /** Rejects every caller whose entry is in the log but not applied. */
  failWaiters(error: RaftError): void {
    for (const request of this.#waiters.takeAll()) request.reject(error);
  }
}

/**
 * The proposals of a turn to append: those not settled while queued (deadline, abort), less those
 * holding a command over `commandBytesMax`, refused here alone — the core would refuse the whole
 * append for it, and with it every other caller of the turn. The turn's own array when all are
 * admissible, the usual case, rather than a copy of it built one push at a time.
 */
function admissible(
  queued: readonly QueuedProposal[],
  commandBytesMax: number,
): readonly QueuedProposal[] {
  let position = 0;
  while (position < queued.length && admits(queued[position]!, commandBytesMax)) position++;
  if (position === queued.length) return queued;
  const live = queued.slice(0, position);
  for (; position < queued.length; position++) {
    const proposal = queued[position]!;
    if (admits(proposal, commandBytesMax)) live.push(proposal);
  }
  return live;
}

/** Whether `proposal` may be appended; refuses it when a command of it is too large. */
function admits(proposal: QueuedProposal, commandBytesMax: number): boolean {
  if (proposal.settled) return false;
  const bytes = largestCommand(proposal);
  if (bytes <= commandBytesMax) return true;
  proposal.reject(commandTooLargeError(bytes, commandBytesMax));
  return false;
}

function largestCommand(proposal: QueuedProposal): number {
  if (!(proposal instanceof ProposalBatch)) return proposal.command.byteLength;
  let largest = 0;
  for (const command of proposal.commands) largest = Math.max(largest, command.byteLength);
  return largest;
}

/** The commands a queued proposal appends. */
function sizeOf(proposal: QueuedProposal): number {
  return proposal instanceof ProposalBatch ? proposal.commands.length : 1;
}

/** Tells the caller waiting at `index` that another entry took its place. */
function refuseReplaced(request: CallerPromise<unknown>, index: number): void {
  if (request instanceof ProposalBatch) request.replaced(index);
  else request.reject(replacedError(index));
}
