import { RaftError, type ReadState } from '../core/index.js';
import { toRaftError } from './node-errors.js';
import type { PendingRequest } from './pending-request.js';
import type { StateMachine } from './state-machine.js';
import { TurnBatch } from './turn-batch.js';

/** One caller's read, waiting for its answer. */
export interface QueuedRead {
  readonly query: unknown;
  readonly request: PendingRequest<unknown>;
}

/** What the reads need: the leader's confirmation round and the state machine's query. */
export interface ReadCoordinatorOptions {
  /**
   * Asks the leader to confirm a read index under `context` (the answer arrives in a Ready, see
   * `onReadStates`), or returns the error its reads get when it cannot be asked now.
   */
  requestReadIndex(context: number): RaftError | null;
  /** Where queries are answered. */
  readonly stateMachine: Pick<StateMachine<unknown, unknown, unknown>, 'query'>;
  /**
   * Picks where this incarnation's read contexts start. A read-index answer can be delayed across
   * a restart; were contexts to restart at 0, the old answer would match a new read and serve it
   * at an index older than writes acknowledged before it began.
   */
  readonly random: () => number;
}

/**
 * The read path of a node (thesis §6.4): reads of one turn share one ReadIndex confirmation; each
 * confirmed read waits until the state machine has applied its index, then is served.
 */
export class ReadCoordinator {
  readonly #options: ReadCoordinatorOptions;
  readonly #queue = new TurnBatch<QueuedRead>((queued) => this.#flush(queued));
  /** The last context used. */
  #context: number;
  readonly #batches = new Map<number, QueuedRead[]>();
  /** Confirmed reads waiting for the state machine to reach their index, in index order. */
  readonly #awaitingApply: { index: number; reads: QueuedRead[] }[] = [];

  constructor(options: ReadCoordinatorOptions) {
    this.#options = options;
    this.#context = firstReadContext(options.random);
  }

  /** Reads queued or waiting, for the node's admission limit. */
  get pendingCount(): number {
    return this.#queue.length + this.#awaitingApply.length;
  }

  /** `INVALID_CONFIG` when the state machine cannot answer queries at all. */
  get unsupported(): RaftError | null {
    return this.#options.stateMachine.query === undefined
      ? new RaftError('INVALID_CONFIG', 'the state machine has no query method')
      : null;
  }

  /**
   * Serves a read once its index is confirmed and applied: `leaseIndex` when the leader's lease
   * already vouches for it, otherwise after a confirmation round shared by the turn's reads.
   */
  read(queued: QueuedRead, leaseIndex: number | null, appliedIndex: number): void {
    if (leaseIndex === null) this.#queue.push(queued);
    else this.awaitApplied(leaseIndex, [queued], appliedIndex);
  }

  /** Answers `query` from the state machine as it is now (a stale read); a throw rejects. */
  serve(query: unknown): Promise<unknown> {
    try {
      return Promise.resolve(this.#options.stateMachine.query!(query));
    } catch (error) {
      return Promise.reject(toRaftError(error));
    }
  }

  #flush(queued: readonly QueuedRead[]): void {
    const batch = queued.filter((read) => !read.request.settled);
    if (batch.length === 0) return;
    const context = this.#context >= Number.MAX_SAFE_INTEGER ? 1 : this.#context + 1;
    this.#context = context;
    const refusal = this.#options.requestReadIndex(context);
    if (refusal !== null) {
      for (const read of batch) read.request.reject(refusal);
      return;
    }
    this.#batches.set(context, batch);
    // A lost answer must not keep the batch forever: once every caller is settled, forget it.
    void Promise.allSettled(batch.map((queued) => queued.request.promise)).then(() =>
      this.#batches.delete(context),
    );
  }

  /**
   * Answers from a Ready: confirmed reads wait for their index, failed ones reject with `refusal`
   * (leadership could not be confirmed).
   */
  onReadStates(reads: readonly ReadState[], appliedIndex: number, refusal: RaftError): void {
    for (const read of reads) {
      const batch = this.#batches.get(read.context);
      if (batch === undefined) continue;
      this.#batches.delete(read.context);
      if (read.confirmed) {
        this.awaitApplied(read.index, batch, appliedIndex);
      } else {
        for (const queued of batch) queued.request.reject(refusal);
      }
    }
  }

  /** Serves `reads` once the state machine has applied `index` (at once if `appliedIndex` has). */
  awaitApplied(index: number, reads: QueuedRead[], appliedIndex: number): void {
    if (appliedIndex >= index) {
      this.#serve(reads);
      return;
    }
    // Indexes mostly arrive in order, so the insertion point is usually the end.
    let position = this.#awaitingApply.length;
    while (position > 0 && this.#awaitingApply[position - 1]!.index > index) position--;
    this.#awaitingApply.splice(position, 0, { index, reads });
  }

  /** Serves every waiting read whose index the state machine has now applied. */
  serveApplied(applied: number): void {
    let ready = 0;
    while (ready < this.#awaitingApply.length && this.#awaitingApply[ready]!.index <= applied) {
      ready++;
    }
    for (const { reads } of this.#awaitingApply.splice(0, ready)) this.#serve(reads);
  }

  #serve(reads: readonly QueuedRead[]): void {
    for (const queued of reads) {
      if (queued.request.settled) continue;
      this.serve(queued.query).then(
        (answer) => queued.request.resolve(answer),
        (error: unknown) => queued.request.reject(toRaftError(error)),
      );
    }
  }

  /** Takes every read not yet served, for the node to reject on stop. */
  takeAll(): QueuedRead[] {
    const reads = [
      ...this.#queue.take(),
      ...[...this.#batches.values()].flat(),
      ...this.#awaitingApply.splice(0).flatMap((waiting) => waiting.reads),
    ];
    this.#batches.clear();
    return reads;
  }
}

/**
 * Contexts of one incarnation start at a random point of a 2^52 range, so two incarnations share a
 * context only if their ranges overlap: about one chance in 2^52 per read batch.
 */
function firstReadContext(random: () => number): number {
  return Math.floor(random() * 2 ** 52);
}
