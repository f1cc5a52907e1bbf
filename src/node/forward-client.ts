import { RaftError, type NodeId } from '../core/index.js';
import type {
  ForwardOutcome,
  ForwardResult,
  ForwardedSession,
  Transport,
} from '../transport/transport.js';
import { cancelledInLog } from './node-errors.js';
import type { ProposalRequest } from './proposal-request.js';
import { decodeSessionId } from './session-envelope.js';
import type { ResultCodec } from './state-machine.js';
import { TurnBatch } from './turn-batch.js';

/** Bytes of commands in one forwarded message, well under the codec's frame limit. */
export const forwardBatchBytesMax = 4 * 1024 * 1024;

/** What forwarding needs: who this server is, where messages go, how results travel back. */
export interface ForwardClientOptions {
  readonly id: NodeId;
  /** Commands in one forwarded message at most. */
  readonly batchMax: number;
  readonly transport: Pick<Transport, 'send'>;
  readonly resultCodec: Pick<ResultCodec<unknown>, 'decode'>;
  /** Should be random, so a restarted follower does not reuse recent request ids. */
  readonly firstRequestId: number;
  /**
   * The leader to forward this turn's batch to, or the error its callers get when there is none
   * (an election, this server leads after all, or it stopped).
   */
  leader(): NodeId | RaftError;
}

interface ForwardedBatch {
  /** The leader the batch was sent to. */
  readonly leaderId: NodeId;
  readonly batch: readonly ProposalRequest[];
}

/**
 * A follower's side of `forwardProposals`: proposals of one turn travel to the leader in one
 * message (split by count and bytes), and each caller gets the leader's result for its command.
 */
export class ForwardClient {
  readonly #options: ForwardClientOptions;
  readonly #queue = new TurnBatch<ProposalRequest>((queued) => this.#flush(queued));
  readonly #inFlight = new Map<number, ForwardedBatch>();
  #requestId: number;

  constructor(options: ForwardClientOptions) {
    this.#options = options;
    this.#requestId = options.firstRequestId;
  }

  /** Proposals queued or awaiting the leader's answer. */
  get pendingCount(): number {
    return this.#queue.length + this.#inFlight.size;
  }

  /** Batches sent and not yet answered. */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Queues a proposal; every proposal of the same turn travels in one message where it fits. */
  enqueue(queued: ProposalRequest): Promise<unknown> {
    this.#queue.push(queued);
    return queued.promise;
  }

  #flush(queued: readonly ProposalRequest[]): void {
    const pending = queued.filter((proposal) => !proposal.settled);
    if (pending.length === 0) return;
    const leaderId = this.#options.leader();
    if (leaderId instanceof RaftError) {
      for (const proposal of pending) proposal.reject(leaderId);
      return;
    }
    let batch: ProposalRequest[] = [];
    let bytes = 0;
    for (const queued of pending) {
      const full =
        batch.length >= this.#options.batchMax ||
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

  #send(leaderId: NodeId, batch: readonly ProposalRequest[]): void {
    const requestId = ++this.#requestId;
    for (const queued of batch) queued.placed = true;
    this.#inFlight.set(requestId, { leaderId, batch });
    void Promise.allSettled(batch.map((queued) => queued.promise)).then(() =>
      this.#inFlight.delete(requestId),
    );
    this.#options.transport.send({
      type: 'forward-proposal',
      from: this.#options.id,
      to: leaderId,
      requestId,
      commands: batch.map((queued) => queued.command),
      ...sessionsOf(batch),
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
      for (const queued of forwarded.batch) queued.reject(cancelledInLog('leader-changed'));
    }
  }

  /**
   * Settles a batch with the leader's answer, each caller with its own command's outcome. An
   * answer that does not match the batch settles nobody definitely: the commands may be in the log.
   */
  onResult(message: ForwardResult): void {
    const batch = this.#inFlight.get(message.requestId)?.batch;
    if (batch === undefined) return;
    this.#inFlight.delete(message.requestId);
    if (message.outcomes.length !== batch.length) {
      const error = unknownOutcome(
        `the leader answered ${message.outcomes.length} outcomes for ${batch.length} commands`,
      );
      for (const queued of batch) queued.reject(error);
      return;
    }
    batch.forEach((queued, position) => {
      const outcome = message.outcomes[position]!;
      if (outcome.status === 'failed') {
        queued.reject(forwardedError(message, outcome));
        return;
      }
      try {
        queued.resolve(
          queued.session?.kind === 'register'
            ? decodeSessionId(outcome.result)
            : this.#options.resultCodec.decode(outcome.result),
        );
      } catch (error) {
        queued.reject(
          unknownOutcome('the command was applied but its result could not be decoded', error),
        );
      }
    });
  }

  /** Takes the proposals not yet sent, for the node to reject on stop. */
  takeQueued(): ProposalRequest[] {
    return this.#queue.take();
  }

  /** Rejects every batch still awaiting an answer. */
  rejectInFlight(error: RaftError): void {
    for (const { batch } of this.#inFlight.values()) {
      for (const queued of batch) queued.reject(error);
    }
    this.#inFlight.clear();
  }
}

/** The leader's error for one command, as its own caller would have seen it. */
function forwardedError(
  message: ForwardResult,
  outcome: Extract<ForwardOutcome, { status: 'failed' }>,
): RaftError {
  const details = {
    leaderId: message.leaderId,
    forwardedTo: message.from,
    outcome: outcome.outcome,
  };
  return new RaftError(outcome.code, outcome.message, {
    details: outcome.reason === null ? details : { ...details, reason: outcome.reason },
  });
}

function unknownOutcome(message: string, cause?: unknown): RaftError {
  return new RaftError('OUTCOME_UNKNOWN', `${message}; it may have been applied`, {
    cause,
    details: { outcome: 'unknown' },
  });
}

/** The batch's session tags by position, or nothing at all when every command is plain. */
function sessionsOf(batch: readonly ProposalRequest[]): { sessions?: ForwardedSession[] } {
  const sessions: ForwardedSession[] = [];
  batch.forEach(({ session }, position) => {
    if (session !== undefined) sessions.push({ ...session, position });
  });
  return sessions.length === 0 ? {} : { sessions };
}
