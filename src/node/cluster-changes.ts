import type { ClusterSettings, NodeId, ProposalPlacement, RaftCore } from '../core/index.js';
import { RaftError } from '../core/index.js';
import { settleOnLeader } from './leader-wait.js';
import type { RaftNodeEvents } from './node-events.js';
import { cancelledError, cancelledInLog, toRaftError } from './node-errors.js';
import type { ProposalPipeline } from './proposal-pipeline.js';
import type { RequestGate } from './request-gate.js';
import type { ProposeOptions } from './request-options.js';
import type { TypedEmitter } from './typed-emitter.js';

/** The node as leader-only requests see it. */
export interface LeaderAccess {
  readonly id: NodeId;
  /** The core when this node may take a leader-only request now; otherwise the refusal. */
  leader(): RaftCore | RaftError;
  /** Lets the Ready loop run, so what was just asked of the core goes out. */
  schedule(): void;
  /** The node's events, to learn when leadership moved. */
  readonly events: Pick<TypedEmitter<RaftNodeEvents>, 'on'>;
}

/**
 * Requests that change the cluster itself rather than the application's state: settings entries
 * and leadership transfer today (membership changes belong here too). Each is leader only and
 * resolves once its effect is visible on this server.
 */
export class ClusterChanges {
  readonly #node: LeaderAccess;
  readonly #gate: RequestGate;
  readonly #proposals: ProposalPipeline;

  constructor(options: { node: LeaderAccess; gate: RequestGate; proposals: ProposalPipeline }) {
    this.#node = options.node;
    this.#gate = options.gate;
    this.#proposals = options.proposals;
  }

  /** Merges `settings` into the current ones through a settings entry. */
  updateSettings(settings: Partial<ClusterSettings>, options: ProposeOptions): Promise<void> {
    return this.#propose(
      (core) => core.proposeSettings({ ...core.status().settings, ...settings }),
      options,
    );
  }

  /** Hands leadership to `target`; resolves when `target` leads. */
  transferLeadership(target: NodeId, options: ProposeOptions): Promise<void> {
    const core = this.#node.leader();
    if (core instanceof RaftError) return Promise.reject(core);
    try {
      core.transferLeadership(target);
    } catch (error) {
      return Promise.reject(toRaftError(error));
    }
    this.#node.schedule();
    if (target === this.#node.id) return Promise.resolve();
    const request = this.#gate.request<NodeId>(options, (reason) =>
      cancelledError(reason, `leadership transfer to ${target}`),
    );
    const settled = settleOnLeader(this.#node, request, (leaderId) => leaderId === target);
    return settled.then(() => undefined);
  }

  /**
   * Places one entry that changes the cluster and resolves once it is applied here. Cancelled
   * waits report `OUTCOME_UNKNOWN`, since the entry is in the log by then.
   */
  #propose(place: (core: RaftCore) => ProposalPlacement, options: ProposeOptions): Promise<void> {
    const core = this.#node.leader();
    if (core instanceof RaftError) return Promise.reject(core);
    const request = this.#gate.request<unknown>(options, cancelledInLog);
    try {
      const placement = place(core);
      if (placement.placed) {
        this.#proposals.waitForEntry(placement.firstIndex, placement.term, request);
      } else {
        request.reject(placement.error);
      }
    } catch (error) {
      request.reject(toRaftError(error));
    }
    this.#node.schedule();
    return request.promise.then(() => undefined);
  }
}
