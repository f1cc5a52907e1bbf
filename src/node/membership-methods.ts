import type { Configuration, MembershipTarget, NodeId } from '../core/index.js';
import type { AddServerOptions, MembershipOptions } from './membership.js';
import type { MembershipRuntime } from './membership-runtime.js';
import type { RaftNodeEvents } from './node-events.js';
import { TypedEmitter } from './typed-emitter.js';

/**
 * The membership part of `RaftNode`'s public API, in a file of its own so that the node's file
 * keeps to its lifecycle and Ready loop. Every method runs on the leader only (`NOT_LEADER`
 * elsewhere), one change at a time (`CHANGE_IN_PROGRESS`), and resolves with the configuration
 * the change ended in once it is committed and applied on this server. See docs/membership.md.
 */
export abstract class MembershipMethods extends TypedEmitter<RaftNodeEvents> {
  /** The node's membership parts (internal). */
  protected abstract get membershipRuntime(): MembershipRuntime;

  /**
   * Moves the cluster to `target` (anyone left out is removed): in one step when at most one
   * voter changes, otherwise through a joint configuration the leader leaves by itself.
   */
  changeMembership(
    target: MembershipTarget,
    options: MembershipOptions = {},
  ): Promise<Configuration> {
    return this.membershipRuntime.changes.changeMembership(target, options);
  }

  /** Adds `id` as a learner: it receives the log, never votes. `address` is kept for every member. */
  addLearner(id: NodeId, options: AddServerOptions = {}): Promise<Configuration> {
    return this.membershipRuntime.changes.addLearner(id, options);
  }

  /**
   * Adds `id` as a voter: as a learner first, promoted once it caught up with the leader in
   * rounds of one election timeout (`CATCH_UP_FAILED` after `catchUpRoundsMax` rounds).
   */
  addVoter(id: NodeId, options: AddServerOptions = {}): Promise<Configuration> {
    return this.membershipRuntime.changes.addVoter(id, options);
  }

  /** Promotes learner `id` to voter once it caught up (`CATCH_UP_FAILED` if it does not). */
  promote(id: NodeId, options: MembershipOptions = {}): Promise<Configuration> {
    return this.membershipRuntime.changes.promote(id, options);
  }

  /**
   * Removes `id`, voter or learner, reachable or not. A leader that removes itself leads until
   * the change commits, then hands over to an up-to-date voter and steps down.
   */
  removeServer(id: NodeId, options: MembershipOptions = {}): Promise<Configuration> {
    return this.membershipRuntime.changes.removeServer(id, options);
  }

  /** The configuration a member reported when this server joined (join mode, first boot only). */
  get joinedConfiguration(): Configuration | null {
    return this.membershipRuntime.joinAnswer?.response.configuration ?? null;
  }
}
