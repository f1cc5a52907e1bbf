import type { RaftError, ReadState } from '../core/index.js';
import type { PendingRequest } from './pending-request.js';

/** One caller's read, waiting for its answer. */
export interface QueuedRead {
  readonly query: unknown;
  readonly request: PendingRequest<unknown>;
}

/** What the reads need from the node that owns them. */
export interface ReadHost {
  /** Asks the core for a read index under `context`; throws when no leader is known. */
  requestReadIndex(context: number): void;
  appliedIndex(): number;
  /** Runs the state machine's query. */
  query(query: unknown): Promise<unknown>;
  /** The error for a read whose leadership could not be confirmed. */
  notLeaderError(): RaftError;
  /** Lets the node's Ready loop run, so the read request leaves. */
  schedule(): void;
  active(): boolean;
  toRaftError(error: unknown): RaftError;
}

/**
 * The read path of a node (thesis §6.4): reads of one turn share one ReadIndex confirmation; each
 * confirmed read waits until the state machine has applied its index, then is served.
 */
export class ReadCoordinator {
  readonly #host: ReadHost;
  #queue: QueuedRead[] = [];
  #flushScheduled = false;
  #context = 0;
  readonly #batches = new Map<number, QueuedRead[]>();
  /** Confirmed reads waiting for the state machine to reach their index, in index order. */
  readonly #awaitingApply: { index: number; reads: QueuedRead[] }[] = [];

  constructor(host: ReadHost) {
    this.#host = host;
  }

  /** Reads queued or waiting, for the node's admission limit. */
  get pendingCount(): number {
    return this.#queue.length + this.#awaitingApply.length;
  }

  /** Queues a linearizable read; reads queued in the same turn share one confirmation round. */
  enqueue(queued: QueuedRead): void {
    this.#queue.push(queued);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0).filter((queued) => !queued.request.settled);
    if (batch.length === 0 || !this.#host.active()) return;
    const context = ++this.#context;
    try {
      this.#host.requestReadIndex(context);
    } catch (error) {
      const refusal = this.#host.toRaftError(error);
      for (const queued of batch) queued.request.reject(refusal);
      return;
    }
    this.#batches.set(context, batch);
    // A lost answer must not keep the batch forever: once every caller is settled, forget it.
    void Promise.allSettled(batch.map((queued) => queued.request.promise)).then(() =>
      this.#batches.delete(context),
    );
    this.#host.schedule();
  }

  /** Answers from a Ready: confirmed reads wait for their index, failed ones reject. */
  onReadStates(reads: readonly ReadState[]): void {
    for (const { context, index } of reads) {
      const batch = this.#batches.get(context);
      if (batch === undefined) continue;
      this.#batches.delete(context);
      if (index < 0) {
        const refusal = this.#host.notLeaderError();
        for (const queued of batch) queued.request.reject(refusal);
      } else {
        this.awaitApplied(index, batch);
      }
    }
  }

  /** Serves `reads` once the state machine has applied `index` (at once if it has). */
  awaitApplied(index: number, reads: QueuedRead[]): void {
    if (this.#host.appliedIndex() >= index) {
      this.#serve(reads);
      return;
    }
    // Indexes mostly arrive in order, so the insertion point is usually the end.
    let position = this.#awaitingApply.length;
    while (position > 0 && this.#awaitingApply[position - 1]!.index > index) position--;
    this.#awaitingApply.splice(position, 0, { index, reads });
  }

  /** Serves every waiting read whose index the state machine has now applied. */
  serveApplied(): void {
    const applied = this.#host.appliedIndex();
    let ready = 0;
    while (ready < this.#awaitingApply.length && this.#awaitingApply[ready]!.index <= applied) {
      ready++;
    }
    for (const { reads } of this.#awaitingApply.splice(0, ready)) this.#serve(reads);
  }

  #serve(reads: readonly QueuedRead[]): void {
    for (const queued of reads) {
      if (queued.request.settled) continue;
      this.#host.query(queued.query).then(
        (answer) => queued.request.resolve(answer),
        (error: unknown) => queued.request.reject(this.#host.toRaftError(error)),
      );
    }
  }

  /** Takes every read not yet served, for the node to reject on stop. */
  takeAll(): QueuedRead[] {
    const reads = [
      ...this.#queue.splice(0),
      ...[...this.#batches.values()].flat(),
      ...this.#awaitingApply.splice(0).flatMap((waiting) => waiting.reads),
    ];
    this.#batches.clear();
    return reads;
  }
}
