import type { ClusterSettings, NodeId } from '../core/index.js';
import type { SessionTag } from '../transport/transport.js';
import type { Clock } from '../platform/clock.js';
import type { ClusterChanges } from './cluster-changes.js';
import { MembershipMethods } from './membership-methods.js';
import type { CommandOptions, ProposeOptions } from './request-options.js';
import { registerTag, sessionTagOf } from './session-envelope.js';
import { ClientSession, type ClientSessionOptions } from './sessions.js';

const noCommand = new Uint8Array(0);

/**
 * The parts of `RaftNode`'s public API that act on the cluster as a whole rather than on one
 * command: its settings, its leadership and its client sessions. In a file of its own so that
 * the node's file keeps to its lifecycle and Ready loop.
 */
export abstract class ClusterMethods<Result> extends MembershipMethods {
  /** The clock a session's retries wait on. */
  readonly #sessionClock: Clock;

  constructor(onListenerError: (error: unknown) => void, sessionClock: Clock) {
    super(onListenerError);
    this.#sessionClock = sessionClock;
  }

  /** The node's settings changes and leadership transfers (internal). */
  protected abstract get clusterChanges(): ClusterChanges;

  /** The node's write path for a command with its session tag, or none (internal). */
  protected abstract submit(
    command: Uint8Array,
    options: CommandOptions,
    tag: SessionTag | undefined,
  ): Promise<unknown>;

  /**
   * Changes the cluster-wide settings (PreVote, CheckQuorum) through the log. Resolves once the
   * settings entry is applied here. Leader only.
   */
  updateSettings(settings: Partial<ClusterSettings>, options: ProposeOptions = {}): Promise<void> {
    return this.clusterChanges.updateSettings(settings, options);
  }

  /** Hands leadership to `target`; resolves when `target` leads, rejects with `TIMEOUT` otherwise. */
  transferLeadership(target: NodeId, options: ProposeOptions = {}): Promise<void> {
    return this.clusterChanges.transferLeadership(target, options);
  }

  /**
   * Registers a client session through the log and returns its client, which numbers commands and
   * retries `OUTCOME_UNKNOWN` under the same number, so each command applies exactly once
   * (docs/sessions.md). Leader only, unless `forwardProposals` is on.
   */
  openSession(options: ClientSessionOptions & ProposeOptions = {}): Promise<ClientSession<Result>> {
    return ClientSession.open<Result>(
      {
        clock: this.#sessionClock,
        propose: (command, commandOptions) =>
          this.submit(command, commandOptions, sessionTagOf(commandOptions.session)),
        registerSession: (registerOptions) =>
          this.submit(noCommand, registerOptions, registerTag) as Promise<number>,
      },
      options,
    );
  }
}
