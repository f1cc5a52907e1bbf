import { RaftError, type NodeId } from '../core/index.js';
import type { ForwardProposal, ForwardResult } from '../transport/transport.js';
import { cancelledInLog, type PendingRequest } from './pending-request.js';

/** One proposal waiting for its outcome. */
export interface QueuedProposal {
  readonly command: Uint8Array;
  readonly request: PendingRequest<unknown>;
  /** Set once the command is in the leader's log (or sent to the leader, which may append it). */
  placed: boolean;
}

/** Bytes of commands in one forwarded message, well under the codec's frame limit. */
export const forwardBatchBytesMax = 4 * 1024 * 1024;

/** What forwarding needs from the node that owns it. */
export interface ForwardHost {
  readonly id: NodeId;
  leaderId(): NodeId | null;
  running(): boolean;
  send(message: ForwardProposal): void;
  notLeaderError(): RaftError;
  decodeResult(bytes: Uint8Array): unknown;
  /** Commands in one forwarded message at most. */
  readonly batchMax: number;
}

interface ForwardedBatch {
  /** The leader the batch was sent to. */
  readonly leaderId: NodeId;
  readonly batch: readonly QueuedProposal[];
}

/**
 * A follower's side of `forwardProposals`: proposals of one turn travel to the leader in one
 * message (split by count and bytes), and each caller gets the leader's result for its command.
 */
export class ForwardClient {
  readonly #host: ForwardHost;
  #queue: QueuedProposal[] = [];
  #flushScheduled = false;
  readonly #inFlight = new Map<number, ForwardedBatch>();
  #requestId: number;

  /** `firstRequestId` should be random, so a restarted follower does not reuse recent ids. */
  constructor(host: ForwardHost, firstRequestId: number) {
    this.#host = host;
    this.#requestId = firstRequestId;
  }

  /** Proposals queued or awaiting the leader's answer. */
  get pendingCount(): number {
    return this.#queue.length + this.#inFlight.size;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  enqueue(queued: QueuedProposal): void {
    this.#queue.push(queued);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const leaderId = this.#host.leaderId();
    const pending = this.#queue.splice(0).filter((queued) => !queued.request.settled);
    if (leaderId === null || leaderId === this.#host.id || !this.#host.running()) {
      for (const queued of pending) queued.request.reject(this.#host.notLeaderError());
      return;
    }
    let batch: QueuedProposal[] = [];
    let bytes = 0;
    for (const queued of pending) {
      const full =
        batch.length >= this.#host.batchMax ||
        (batch.length > 0 && bytes + queued.command.byteLength > forwardBatchBytesMax);
      if (full) {
        this.#send(leaderId, batch);
        batch = [];
        bytes = 0;
      }
      batch.push(queued);
      bytes += queued.command.byteLength;
    }
    if (batch.length > 0) this.#send(leaderId, batch);
  }

  #send(leaderId: NodeId, batch: readonly QueuedProposal[]): void {
    const requestId = ++this.#requestId;
    for (const queued of batch) queued.placed = true;
    this.#inFlight.set(requestId, { leaderId, batch });
    void Promise.allSettled(batch.map((queued) => queued.request.promise)).then(() =>
      this.#inFlight.delete(requestId),
    );
    this.#host.send({
      type: 'forward-proposal',
      from: this.#host.id,
      to: leaderId,
      requestId,
      commands: batch.map((queued) => queued.command),
    });
  }

  /**
   * The leader changed: answers from the old one may never come, so its callers learn at once that
   * their commands may or may not have been applied, rather than at their deadline.
   */
  abandonAllBut(newLeaderId: NodeId | null): void {
    for (const [requestId, forwarded] of this.#inFlight) {
      if (forwarded.leaderId === newLeaderId) continue;
      this.#inFlight.delete(requestId);
      for (const queued of forwarded.batch) queued.request.reject(cancelledInLog('leader-changed'));
    }
  }

  /** Settles a batch with the leader's answer: one result per command, or the leader's error. */
  onResult(message: ForwardResult): void {
    const batch = this.#inFlight.get(message.requestId)?.batch;
    if (batch === undefined) return;
    this.#inFlight.delete(message.requestId);
    if (message.errorCode !== null) {
      const error = new RaftError(message.errorCode as RaftError['code'], message.errorMessage, {
        details: { leaderId: message.leaderId, forwardedTo: message.from },
      });
      for (const queued of batch) queued.request.reject(error);
      return;
    }
    batch.forEach((queued, position) => {
      const bytes = message.results[position];
      if (bytes === undefined) {
        queued.request.reject(
          new RaftError('INVALID_MESSAGE', 'forwarded result is missing an answer'),
        );
        return;
      }
      try {
        queued.request.resolve(this.#host.decodeResult(bytes));
      } catch (error) {
        queued.request.reject(
          new RaftError('INVALID_MESSAGE', 'forwarded result could not be decoded', {
            cause: error,
          }),
        );
      }
    });
  }

  /** Takes the proposals not yet sent, for the node to reject on stop. */
  takeQueued(): QueuedProposal[] {
    return this.#queue.splice(0);
  }

  /** Rejects every batch still awaiting an answer. */
  rejectInFlight(error: RaftError): void {
    for (const { batch } of this.#inFlight.values()) {
      for (const queued of batch) queued.request.reject(error);
    }
    this.#inFlight.clear();
  }
}
