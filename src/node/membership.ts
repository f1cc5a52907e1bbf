import {
  RaftError,
  isJoint,
  isVoter,
  type Configuration,
  type MembershipTarget,
  type NodeId,
  type ProposalPlacement,
  type RaftCore,
} from '../core/index.js';
import type { Clock } from '../platform/clock.js';
import type { MembershipEvent } from './configuration-watcher.js';
import { Deadlines } from './deadlines.js';
import { PendingRequest } from './pending-request.js';

/** Per-call options of the membership methods. */
export interface MembershipOptions {
  readonly signal?: AbortSignal;
  /** Overrides the node's `membershipTimeoutMs` for this change. */
  readonly timeoutMs?: number;
}

/** How to add a server. */
export interface AddServerOptions extends MembershipOptions {
  /** Where the other servers reach it; stored in the configuration for every member to read. */
  readonly address?: string;
}

/** Limits of a change, resolved from the node's options. */
export interface MembershipLimits {
  /** Milliseconds per election timeout: the length of one catch-up round. */
  readonly electionTimeoutMs: number;
  /** Rounds a learner gets to catch up before promotion fails with `CATCH_UP_FAILED`. */
  readonly catchUpRoundsMax: number;
  /** Default deadline of a whole change, catch-up included. */
  readonly membershipTimeoutMs: number;
  /** How often catch-up progress is checked. */
  readonly pollMs: number;
}

/** What membership changes need from the node that owns them. */
export interface MembershipHost {
  readonly clock: Clock;
  readonly limits: MembershipLimits;
  /** The core when this node runs and leads; otherwise the refusal (`NOT_LEADER`, `STOPPED`…). */
  leader(): RaftCore | RaftError;
  /** Lets the node's Ready loop run, so a proposed entry leaves. */
  schedule(): void;
  /** Subscribes to this node's `membership` events; returns the unsubscribe function. */
  onMembership(listener: (event: MembershipEvent) => void): () => void;
  /** Counts one catch-up round. */
  countRound(): void;
}

/**
 * The leader's side of membership changes: one at a time (a second is refused with
 * `CHANGE_IN_PROGRESS`), each a safe core step, joint ones left automatically; learners are
 * promoted only once they caught up with the leader, in rounds of one election timeout (thesis
 * §4.2.1). A change resolves with the configuration it ended in, once committed and applied here.
 */
export class MembershipChanges {
  readonly #host: MembershipHost;
  readonly #deadlines: Deadlines;
  #inFlight: string | null = null;

  constructor(host: MembershipHost) {
    this.#host = host;
    this.#deadlines = new Deadlines(host.clock);
  }

  /** Whether a change started here is still under way. */
  get changing(): boolean {
    return this.#inFlight !== null;
  }

  /** Moves the cluster to `target` (joint consensus when more than one voter changes). */
  changeMembership(target: MembershipTarget, options: MembershipOptions = {}) {
    return this.#exclusive('changeMembership', options, (request) =>
      this.#propose(target, request),
    );
  }

  /** Adds `id` as a learner: it receives the log but does not vote. */
  addLearner(id: NodeId, options: AddServerOptions = {}) {
    return this.#exclusive('addLearner', options, (request) =>
      this.#addLearner(id, options, request),
    );
  }

  /** Adds `id` as a voter: first as a learner, promoted once it has caught up. */
  addVoter(id: NodeId, options: AddServerOptions = {}) {
    return this.#exclusive('addVoter', options, async (request) => {
      const current = this.#leaderCore().configuration;
      if (isVoter(current, id) && !isJoint(current)) return current;
      if (!current.learners.includes(id)) await this.#addLearner(id, options, request);
      return this.#promote(id, request);
    });
  }

  /** Promotes learner `id` to voter once it has caught up. */
  promote(id: NodeId, options: MembershipOptions = {}) {
    return this.#exclusive('promote', options, (request) => this.#promote(id, request));
  }

  /** Removes `id`, voter or learner, whether it is reachable or not. */
  removeServer(id: NodeId, options: MembershipOptions = {}) {
    return this.#exclusive('removeServer', options, (request) => {
      const current = this.#leaderCore().configuration;
      const target = {
        voters: current.voters.filter((voter) => voter !== id),
        learners: current.learners.filter((learner) => learner !== id),
      };
      if (
        target.voters.length === current.voters.length &&
        target.learners.length === current.learners.length
      ) {
        return Promise.resolve(current);
      }
      return this.#propose(target, request);
    });
  }

  async #exclusive(
    operation: string,
    options: MembershipOptions,
    run: (request: PendingRequest<Configuration>) => Promise<Configuration>,
  ): Promise<Configuration> {
    this.#leaderCore();
    if (this.#inFlight !== null) {
      throw new RaftError('CHANGE_IN_PROGRESS', `${this.#inFlight} is still under way`, {
        details: { operation: this.#inFlight, outcome: 'not-applied' },
      });
    }
    this.#inFlight = operation;
    const request = new PendingRequest<Configuration>({
      deadlines: this.#deadlines,
      timeoutMs: options.timeoutMs ?? this.#host.limits.membershipTimeoutMs,
      signal: options.signal,
      onCancel: (reason) =>
        reason === 'timeout'
          ? new RaftError('TIMEOUT', `${operation} did not finish in time; check members()`, {
              details: { outcome: 'unknown' },
            })
          : new RaftError('ABORTED', `${operation} aborted; a proposed entry may still commit`, {
              details: { outcome: 'unknown' },
            }),
    });
    run(request).then(
      (configuration) => request.resolve(configuration),
      (error: unknown) => request.reject(error),
    );
    try {
      return await request.promise;
    } finally {
      this.#inFlight = null;
    }
  }

  #leaderCore(): RaftCore {
    const core = this.#host.leader();
    if (core instanceof RaftError) throw core;
    return core;
  }

  #addLearner(
    id: NodeId,
    options: AddServerOptions,
    request: PendingRequest<Configuration>,
  ): Promise<Configuration> {
    const current = this.#leaderCore().configuration;
    if (isVoter(current, id)) {
      return Promise.reject(
        new RaftError('INVALID_CONFIG', `${id} is a voter already`, {
          details: { option: 'id', value: id },
        }),
      );
    }
    const known = current.learners.includes(id) && options.address === current.addresses[id];
    if (known) return Promise.resolve(current);
    return this.#propose(
      {
        voters: current.voters,
        learners: [...current.learners.filter((learner) => learner !== id), id],
        ...(options.address === undefined ? {} : { addresses: { [id]: options.address } }),
      },
      request,
    );
  }

  async #promote(id: NodeId, request: PendingRequest<Configuration>): Promise<Configuration> {
    const current = this.#leaderCore().configuration;
    if (current.voters.includes(id)) return current;
    if (!current.learners.includes(id)) {
      throw new RaftError('INVALID_CONFIG', `${id} is not a learner; add it first`, {
        details: { option: 'id', value: id },
      });
    }
    await this.#catchUp(id, request);
    const now = this.#leaderCore().configuration;
    return this.#propose(
      {
        voters: [...now.voters, id],
        learners: now.learners.filter((learner) => learner !== id),
      },
      request,
    );
  }

  /**
   * Waits until `id` holds what the leader held when a round began, within one election timeout
   * (thesis §4.2.1): then the lag left is small enough that promoting it does not stall commits.
   * A round that takes longer starts another; after `catchUpRoundsMax` rounds it fails.
   */
  #catchUp(id: NodeId, request: PendingRequest<Configuration>): Promise<void> {
    const { clock, limits } = this.#host;
    return new Promise<void>((resolve, reject) => {
      let rounds = 1;
      this.#host.countRound();
      let roundStartMs = clock.now();
      let roundTarget = this.#leaderCore().status().lastIndex;
      const check = (): void => {
        // The caller gave up (deadline or signal): no promotion after that.
        if (request.settled) return reject(new RaftError('ABORTED', 'catch-up abandoned'));
        const core = this.#host.leader();
        if (core instanceof RaftError) return reject(core);
        const status = core.status();
        const match = status.progress.find((peer) => peer.id === id)?.match ?? 0;
        const elapsedMs = clock.now() - roundStartMs;
        if (match >= roundTarget && elapsedMs <= limits.electionTimeoutMs) return resolve();
        if (match >= roundTarget || elapsedMs > limits.electionTimeoutMs) {
          if (rounds >= limits.catchUpRoundsMax) {
            return reject(
              new RaftError(
                'CATCH_UP_FAILED',
                `${id} did not catch up in ${rounds} rounds of ${limits.electionTimeoutMs} ms (it holds ${match} of ${status.lastIndex}); is it running and reachable?`,
                {
                  details: {
                    id,
                    match,
                    lastIndex: status.lastIndex,
                    rounds,
                    outcome: 'not-applied',
                  },
                },
              ),
            );
          }
          rounds++;
          this.#host.countRound();
          roundStartMs = clock.now();
          roundTarget = status.lastIndex;
        }
        clock.schedule(limits.pollMs, check);
      };
      check();
    });
  }

  /**
   * Proposes the step toward `target` and resolves once a plain (non-joint) configuration at or
   * after it is committed here: for a joint change, that is the leave step the leader appends.
   */
  #propose(
    target: MembershipTarget,
    request: PendingRequest<Configuration>,
  ): Promise<Configuration> {
    return new Promise<Configuration>((resolve, reject) => {
      let index = 0;
      const unsubscribe = this.#host.onMembership((event) => {
        if (index === 0 || event.index < index) return;
        if (event.change === 'aborted' && event.index === index) {
          finish(
            new RaftError(
              'PROPOSAL_DROPPED',
              `the configuration entry ${index} was replaced by a new leader; retry`,
              { details: { outcome: 'not-applied' } },
            ),
          );
        } else if (event.change === 'committed' && !isJoint(event.configuration)) {
          finish(null, event.configuration);
        }
      });
      const finish = (error: RaftError | null, configuration?: Configuration): void => {
        unsubscribe();
        if (error === null) resolve(configuration!);
        else reject(error);
      };
      void request.promise.then(unsubscribe, unsubscribe);
      const place = (): void => {
        if (request.settled) return;
        let placement: ProposalPlacement;
        try {
          placement = this.#leaderCore().changeMembership(target);
        } catch (error) {
          finish(error instanceof RaftError ? error : new RaftError('INVARIANT', String(error)));
          return;
        }
        if (!placement.placed) {
          // A new leader first commits an entry of its term (and any change an earlier leader
          // left uncommitted must settle): wait a tick, within the caller's deadline.
          if (placement.error.code === 'CHANGE_IN_PROGRESS') {
            this.#host.clock.schedule(this.#host.limits.pollMs, place);
          } else {
            finish(placement.error);
          }
          return;
        }
        index = placement.firstIndex;
        this.#host.schedule();
      };
      place();
    });
  }
}
