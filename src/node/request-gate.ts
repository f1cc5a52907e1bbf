import type { NodeId, RaftCore, RaftError } from '../core/index.js';
import type { Clock } from '../platform/clock.js';
import type { NodeCounters } from './node-counters.js';
import { busyError, notLeaderError, stoppedError, type CancelReason } from './node-errors.js';
import { Deadlines } from './deadlines.js';
import { PendingRequest } from './pending-request.js';
import { ProposalBatch } from './proposal-batch.js';
import { ProposalRequest, type ProposalContext } from './proposal-request.js';
import type { ProposeOptions } from './request-options.js';
import type { SessionTag } from '../transport/transport.js';

/** The settings the gate enforces. */
export interface RequestGateOptions {
  readonly id: NodeId;
  readonly clock: Clock;
  readonly requestTimeoutMs: number;
  readonly pendingRequestsMax: number;
  readonly counters: NodeCounters;
  /** Where to find a server the configuration has no address for. */
  addressOf(id: NodeId): string | null;
}

/** What the gate needs to know about the node at the moment a request arrives. */
export interface NodeView {
  readonly running: boolean;
  /** Requests of every kind that are queued or waiting. */
  readonly pending: number;
  /** The core, once started. */
  readonly core: Pick<RaftCore, 'role' | 'leaderId' | 'configuration'> | null;
}

/**
 * The front door of a node: decides whether a request may enter (running, under the pending
 * limit, leading), and creates the caller's pending promise with its deadline and signal.
 */
export class RequestGate {
  readonly #options: RequestGateOptions;
  readonly #deadlines: Deadlines;
  readonly #proposals: ProposalContext;

  constructor(options: RequestGateOptions) {
    this.#options = options;
    this.#deadlines = new Deadlines(options.clock);
    const { requestTimeoutMs, counters } = options;
    this.#proposals = { deadlines: this.#deadlines, requestTimeoutMs, counters };
  }

  /**
   * `null` when the node runs and has room for `count` more requests (a batch counts its
   * commands); otherwise why not.
   */
  admit(node: NodeView, count = 1): RaftError | null {
    if (!node.running) return stoppedError(`node ${this.#options.id} is not running`);
    if (node.pending + count > this.#options.pendingRequestsMax) return busyError(node.pending);
    return null;
  }

  /**
   * The one opening check of every leader-only request: `null` when the node is admitted and
   * leads; otherwise the error to reject with (`STOPPED`, `BUSY`, `NOT_LEADER` naming the leader,
   * or `NO_LEADER`).
   */
  requireLeader(node: NodeView, count = 1): RaftError | null {
    return (
      this.admit(node, count) ?? (node.core?.role === 'leader' ? null : this.notLeader(node.core))
    );
  }

  /** `NOT_LEADER` with the leader's id and address, or `NO_LEADER` when none is known. */
  notLeader(core: NodeView['core']): RaftError {
    const leaderId = core?.leaderId ?? null;
    return notLeaderError({
      id: this.#options.id,
      leaderId,
      leaderAddress: leaderId === null ? null : this.addressOf(leaderId, core),
    });
  }

  /** A server's address: from the configuration, else from the node's `addressOf` option. */
  addressOf(id: NodeId, core: NodeView['core']): string | null {
    return core?.configuration.addresses[id] ?? this.#options.addressOf(id);
  }

  /** A caller's pending promise with the node's default deadline unless the call sets one. */
  request<T>(options: ProposeOptions, onCancel: (reason: CancelReason) => RaftError) {
    return new PendingRequest<T>({
      deadlines: this.#deadlines,
      timeoutMs: options.timeoutMs ?? this.#options.requestTimeoutMs,
      signal: options.signal,
      onCancel,
    });
  }

  /** A proposal whose cancellation error depends on whether it already reached a log. */
  proposal(command: Uint8Array, options: ProposeOptions, session?: SessionTag): ProposalRequest {
    return new ProposalRequest(command, session, this.#proposals, options);
  }

  /** Many commands under one promise, one deadline and one signal; see {@link ProposalBatch}. */
  batch(commands: readonly Uint8Array[], options: ProposeOptions): ProposalBatch {
    return new ProposalBatch(commands, this.#proposals, options);
  }
}
