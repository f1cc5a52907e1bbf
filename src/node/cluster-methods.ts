import type { ClusterSettings, NodeId } from '../core/index.js';
import type { SessionTag } from '../transport/transport.js';
import type { Clock } from '../platform/clock.js';
import type { ClusterChanges } from './cluster-changes.js';
import { MembershipMethods } from './membership-methods.js';
import type { BatchResult } from './proposal-batch.js';
import { noOptions, type CommandOptions, type ProposeOptions } from './request-options.js';
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

  /** The node's write path for a batch of plain commands (internal). */
  protected abstract submitBatch(
    commands: readonly Uint8Array[],
    options: ProposeOptions,
  ): Promise<unknown[]>;

  /** The node's write path for a command with its session tag, or none (internal). */
  protected abstract submit(
    command: Uint8Array,
    options: CommandOptions,
    tag: SessionTag | undefined,
  ): Promise<unknown>;

  /**
   * Replicates many commands with one call and resolves, once all are committed and applied, with
   * one result per command in the order given: what the state machine returned for the command's
   * entry, or a `COMMAND_REJECTED` error in the place of a command it refused (`rejectCommand`).
   * Each command is its own log entry, exactly as if proposed alone; the batch's entries are
   * appended together in one term, consecutive and never interleaved with other proposals. The
   * batch pays for one pending request (one promise, one deadline, one signal watch) instead of
   * one per command, which is what makes it cheaper than as many `propose` calls.
   *
   * Admission is all or nothing, with `propose`'s errors: `STOPPED`, `BUSY` (a batch counts one
   * pending request per command against `pendingRequestsMax`), `NOT_LEADER`/`NO_LEADER`,
   * `PROPOSAL_DROPPED` when the leader's limits refuse it (a command over `messageBytesMax`, or
   * the batch's bytes over what `uncommittedBytesMax` has room for: they count as a whole).
   * `INVALID_CONFIG` (nothing sent) for a call that can never succeed: more than
   * `min(proposalBatchMax, pendingRequestsMax)` commands (4,096 by default), an element that is
   * not a `Uint8Array`, or a `session` option. An empty batch resolves to `[]` at once.
   *
   * Leader only: a follower refuses it with `NOT_LEADER` even with `forwardProposals` on (the
   * forwarding protocol answers command by command and cannot keep a batch whole), and client
   * sessions are not taken, since a session numbers each command on its own: propose session
   * commands one by one (`ClientSession.propose`).
   *
   * As with `propose`, a rejection after the batch entered the log does not mean nothing applied:
   * `TIMEOUT`/`ABORTED` become `OUTCOME_UNKNOWN`, and a batch that a new leader cut from the log
   * rejects with `PROPOSAL_DROPPED` whose `details.appliedCommands` says how many of its first
   * commands had been committed and applied (`outcome: 'unknown'` when that is not zero). A
   * rejected batch may thus have been committed in part or in whole; sessions, which would make
   * a retry safe, are not available for batches. The bytes become the entries' as they are,
   * without a copy: do not change them afterwards (the array itself may be reused).
   *
   * ```ts
   * const totals = await node.proposeBatch(writes, { timeoutMs: 2000 });
   * ```
   */
  proposeBatch(
    commands: readonly Uint8Array[],
    options: ProposeOptions = noOptions,
  ): Promise<BatchResult<Result>[]> {
    return this.submitBatch(commands, options) as Promise<BatchResult<Result>[]>;
  }

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
