import {
  checkTransition,
  planChange,
  validateConfiguration,
  type MembershipTarget,
  type Role,
} from './configuration.js';
import { maybeFinishChange } from './membership-change.js';
import { RaftError, commandTooLargeError } from './errors.js';
import type { RaftMessage } from './messages.js';
import { findMessageProblem } from './message-validation.js';
import { resolveCoreOptions, type RaftCoreOptions } from './options.js';
import { jointActive } from './quorum.js';
import { RaftLog } from './raft-log.js';
import type { Ready, SoftState } from './ready.js';
import { appendAsLeader, becomeFollower, campaign, type EntryDraft } from './roles.js';
import { broadcastCommit, maybeCommit, sendAppend } from './replication.js';
import { CoreState } from './state.js';
import { step } from './step.js';
import { requestRead } from './read-index.js';
import { broadcastHeartbeat, leaseHolds } from './lease.js';
import type {
  ClusterSettings,
  Configuration,
  Entry,
  HardState,
  NodeId,
  SessionEntryDraft,
  SnapshotMeta,
} from './types.js';

/** What a core restarts from: exactly what its storage holds. */
export interface CoreStartState {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta;
  /** The stored entries after the snapshot, in order. */
  readonly entries: readonly Entry[];
}

/**
 * What became of a proposal: where the leader placed it in its log, or why it refused it. A
 * refusal is an expected outcome (not the leader, a limit, a transfer or a membership change under
 * way), so it is a value; nothing of a refused proposal entered the log.
 */
export type ProposalPlacement =
  PlacedProposals | { readonly placed: false; readonly error: RaftError };

/** Where the leader placed a batch of proposals: entries `firstIndex..lastIndex` of `term`. */
export interface PlacedProposals {
  readonly placed: true;
  readonly term: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

/** The leader's view of one member, for status pages. */
export interface PeerProgress {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  /** The snapshot index being sent, while `state` is `snapshot` (0 otherwise). */
  readonly pendingSnapshot: number;
  readonly inflightMessages: number;
  readonly recentActive: boolean;
}

/** A snapshot of a core's state for status pages and tests. */
export interface CoreStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly stableIndex: number;
  /** The log's compaction marker: entries up to it are covered by a snapshot. */
  readonly snapshotIndex: number;
  readonly configuration: Configuration;
  readonly settings: ClusterSettings;
  /** Per-member replication state; empty unless this server leads. */
  readonly progress: readonly PeerProgress[];
}

/**
 * One server's Raft state machine: synchronous, deterministic, free of I/O. Feed it `tick`, `step`
 * and proposals; take its work with `ready()`; report it done with `advance()`.
 */
export class RaftCore {
  readonly #state: CoreState;
  #lastHardState: HardState;
  #lastSoftState: SoftState;
  /** The commit index in the last hard state handed out for saving. */
  #lastSavedCommit: number;
  /**
   * The hard state last reported durable through `advance`. A runtime that keeps taking Ready
   * values while a write is in flight has handed out `#lastHardState` but may not have it on disk.
   */
  #durableHardState: HardState;

  constructor(options: RaftCoreOptions, start: CoreStartState) {
    const resolved = resolveCoreOptions(options);
    validateConfiguration(start.snapshot.configuration);
    const log = new RaftLog({
      snapshotIndex: start.snapshot.index,
      snapshotTerm: start.snapshot.term,
      entries: start.entries,
      committed: start.hardState.commit,
      applied: Math.max(resolved.applied, start.snapshot.index),
    });
    // A crash may keep a batch's entries but lose its hard state. The server was in at least the
    // term of its last entry; a vote in that term was never persisted, so it was never sent.
    const term = Math.max(start.hardState.term, log.lastTerm);
    this.#state = new CoreState({
      options: resolved,
      log,
      term,
      vote: term === start.hardState.term ? start.hardState.vote : null,
      configuration: start.snapshot.configuration,
      settings: start.snapshot.settings,
    });
    this.#state.resetRandomizedElectionTimeout();
    this.#lastHardState = this.#hardState();
    this.#durableHardState = this.#lastHardState;
    this.#lastSoftState = this.#softState();
    this.#lastSavedCommit = start.hardState.commit;
  }

  get id(): NodeId {
    return this.#state.id;
  }

  get role(): Role {
    return this.#state.role;
  }

  get term(): number {
    return this.#state.term;
  }

  get leaderId(): NodeId | null {
    return this.#state.leaderId;
  }

  /** The configuration in force: the latest one in the log, committed or not. */
  get configuration(): Configuration {
    return this.#state.configuration;
  }

  /** The log index of the configuration in force (the snapshot's index when none is in the log). */
  get configurationIndex(): number {
    return this.#state.configurationIndex;
  }

  /** The newest committed configuration and its index. */
  get committedConfiguration(): { readonly index: number; readonly configuration: Configuration } {
    const committed = this.#state.committedConfiguration;
    return { index: committed.index, configuration: committed.value };
  }

  /**
   * The index the log was last compacted to (`status().snapshotIndex`, without building the rest
   * of the status: the runtime asks on every Ready pass).
   */
  get snapshotIndex(): number {
    return this.#state.log.snapshotIndex;
  }

  /** The last index known durable in storage (`status().stableIndex`, as cheaply). */
  get stableIndex(): number {
    return this.#state.log.stableIndex;
  }

  /** Advances logical time by one tick: elections, heartbeats and CheckQuorum all count ticks. */
  tick(): void {
    this.#tick();
    maybeFinishChange(this.#state);
  }

  #tick(): void {
    const state = this.#state;
    state.ticks++;
    state.electionElapsed++;
    if (state.quietTicksLeft > 0) state.quietTicksLeft--;
    if (state.role !== 'leader') {
      if (state.promotable && state.electionElapsed >= state.randomizedElectionTimeout) {
        campaign(state, { transfer: false });
      }
      return;
    }
    state.heartbeatElapsed++;
    if (state.electionElapsed >= state.options.electionTicks) {
      state.electionElapsed = 0;
      if (state.settings.checkQuorum && !this.#quorumActive()) {
        becomeFollower(state, state.term, null);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      state.transferee = null;
    }
    if (state.heartbeatElapsed >= state.options.heartbeatTicks) {
      state.heartbeatElapsed = 0;
      broadcastHeartbeat(state);
    }
  }

  /** CheckQuorum: did a quorum talk to us since the last round? Resets the marks for the next. */
  #quorumActive(): boolean {
    const state = this.#state;
    const active = jointActive(
      state.voterSets,
      (id) => id === state.id || state.progress.get(id)?.recentActive === true,
    );
    for (const [id, progress] of state.progress) progress.recentActive = id === state.id;
    return active;
  }

  /**
   * Processes one message from another server. A message that fails validation (addressed to
   * another server, from a stranger, with gapped indexes, terms out of order, fields that are not
   * safe integers…) changes nothing: it is dropped, traced, and reported by throwing
   * `INVALID_MESSAGE`, which the runtime counts. Only our own bugs trip invariants.
   */
  step(message: RaftMessage): void {
    const state = this.#state;
    const problem =
      message.to === state.id
        ? findMessageProblem(state, message)
        : `message for ${String(message.to)} delivered to ${state.id}`;
    if (problem !== null) {
      state.trace({ kind: 'invalid-message', id: state.id, message, reason: problem });
      throw new RaftError('INVALID_MESSAGE', `dropped a message: ${problem}`, {
        details: { from: message.from, type: message.type, reason: problem },
      });
    }
    step(state, message);
    maybeFinishChange(state);
  }

  /** Starts an election now, as if the election timeout had fired. */
  campaign(): void {
    campaign(this.#state, { transfer: false });
  }

  /**
   * Appends commands (plain bytes, or session entries the runtime built) to the leader's log as
   * one batch and starts replicating them. Refused with `NOT_LEADER` off the leader and
   * `PROPOSAL_DROPPED` when a limit or a transfer refuses them.
   */
  propose(commands: readonly (Uint8Array | SessionEntryDraft)[]): ProposalPlacement {
    const refusal = this.#proposalRefusal();
    if (refusal !== null) return refused(refusal);
    const state = this.#state;
    let bytes = 0;
    for (const command of commands) {
      const length = command instanceof Uint8Array ? command.byteLength : command.data.byteLength;
      if (length > state.options.messageBytesMax) {
        return refused(commandTooLargeError(length, state.options.messageBytesMax));
      }
      bytes += length;
    }
    if (
      state.uncommittedBytes > 0 &&
      state.uncommittedBytes + bytes > state.options.uncommittedBytesMax
    ) {
      return refused(
        new RaftError('PROPOSAL_DROPPED', 'too many uncommitted bytes; retry after commits', {
          details: { uncommittedBytes: state.uncommittedBytes, outcome: 'not-applied' },
        }),
      );
    }
    return this.#append(commands);
  }

  /**
   * Proposes the next configuration entry as it is, after checking that the step is safe: at most
   * one voter changed, entering a joint configuration from the voters in force, or leaving a joint
   * one (`UNSAFE_CHANGE` otherwise). Most callers want {@link changeMembership}, which picks the
   * step. Refused with `CHANGE_IN_PROGRESS` while an earlier change is uncommitted or before this
   * leader has committed an entry of its own term (until then, an uncommitted change of an earlier
   * leader may still be in the log).
   */
  proposeConfiguration(configuration: Configuration): ProposalPlacement {
    const refusal = this.#proposalRefusal() ?? this.#changeRefusal();
    if (refusal !== null) return refused(refusal);
    const unsafe = refusalOf(() => checkTransition(this.#state.configuration, configuration));
    if (unsafe instanceof RaftError) return refused(unsafe);
    return this.#append([{ kind: 'configuration', configuration }]);
  }

  /**
   * Moves the cluster to `target` (voters and learners; anyone left out is removed) safely: in one
   * step when at most one voter changes, otherwise through a joint configuration that this leader
   * leaves by itself once it commits. Errors as for {@link proposeConfiguration}.
   */
  changeMembership(target: MembershipTarget): ProposalPlacement {
    const refusal = this.#proposalRefusal() ?? this.#changeRefusal();
    if (refusal !== null) return refused(refusal);
    const next = refusalOf(() => planChange(this.#state.configuration, target));
    return next instanceof RaftError ? refused(next) : this.proposeConfiguration(next);
  }

  #changeRefusal(): RaftError | null {
    const state = this.#state;
    if (state.configurationIndex > state.log.committed) {
      return new RaftError(
        'CHANGE_IN_PROGRESS',
        `a configuration change (entry ${state.configurationIndex}) is not committed yet`,
        { details: { index: state.configurationIndex, outcome: 'not-applied' } },
      );
    }
    if (state.log.term(state.log.committed) !== state.term) {
      return new RaftError(
        'CHANGE_IN_PROGRESS',
        'the leader has not committed an entry of its term yet; retry shortly',
        { details: { outcome: 'not-applied' } },
      );
    }
    return null;
  }

  /** Proposes new cluster-wide settings (PreVote, CheckQuorum). */
  proposeSettings(settings: ClusterSettings): ProposalPlacement {
    const refusal = this.#proposalRefusal();
    if (refusal !== null) return refused(refusal);
    return this.#append([{ kind: 'settings', settings: { ...settings } }]);
  }

  /**
   * Asks for a linearizable read index (thesis §6.4): the answer arrives in a later Ready's
   * `reads` with the same `context`. On the leader, one heartbeat round confirms it still leads; a
   * follower asks the leader. Throws `NO_LEADER` when no leader is known. Contexts must be positive
   * and unique per server while pending.
   */
  readIndex(context: number): void {
    const state = this.#state;
    if (!Number.isSafeInteger(context) || context <= 0) {
      throw new RaftError(
        'INVALID_CONFIG',
        `read context must be a positive integer, got ${context}`,
      );
    }
    if (state.role === 'leader') {
      requestRead(state, state.id, context);
      return;
    }
    if (state.leaderId === null) {
      throw new RaftError('NO_LEADER', 'no leader is known; an election is under way', {
        details: { leaderId: null, outcome: 'not-applied' },
      });
    }
    state.send({
      type: 'read-index',
      term: state.term,
      from: state.id,
      to: state.leaderId,
      context,
    });
  }

  /**
   * A read index without a heartbeat round, under the leader lease of thesis §6.4.1: a quorum
   * acknowledged a heartbeat round sent at tick T, so no other leader can be elected before
   * T + electionTicks - 1 - clockDriftBoundTicks (see lease.ts; it assumes clocks drift by no more
   * than the bound). Returns null when the lease does not apply — not the leader, CheckQuorum off,
   * the lease expired or not yet earned, a leadership transfer started this term, or no entry of
   * this term committed yet — and the caller should use `readIndex` instead.
   */
  leaseReadIndex(): number | null {
    const state = this.#state;
    if (!leaseHolds(state)) return null;
    if (state.log.term(state.log.committed) !== state.term) return null;
    return state.log.committed;
  }

  /**
   * Hands leadership to `target` (thesis §3.10): proposals are refused meanwhile, the target is
   * brought up to date, then told to campaign at once.
   */
  transferLeadership(target: NodeId): void {
    const state = this.#state;
    this.#assertLeader();
    if (target === state.id) return;
    if (!state.configuration.voters.includes(target)) {
      throw new RaftError('INVALID_CONFIG', `${target} is not a voter and cannot lead`, {
        details: { option: 'target', value: target },
      });
    }
    state.transferee = target;
    // The target's campaign overrides stickiness, even after the transfer is abandoned (a
    // TimeoutNow may arrive late): no lease for the rest of this term.
    state.leaseForfeited = true;
    state.electionElapsed = 0;
    const progress = state.progress.get(target)!;
    if (progress.match === state.log.lastIndex) {
      state.send({ type: 'timeout-now', term: state.term, from: state.id, to: target });
    } else {
      sendAppend(state, target);
    }
  }

  #assertLeader(): void {
    if (this.#state.role !== 'leader') throw this.#notLeader();
  }

  #notLeader(): RaftError {
    const state = this.#state;
    return new RaftError('NOT_LEADER', `${state.id} is not the leader`, {
      details: { leaderId: state.leaderId, outcome: 'not-applied' },
    });
  }

  #proposalRefusal(): RaftError | null {
    const state = this.#state;
    if (state.role !== 'leader') return this.#notLeader();
    if (state.transferee !== null) {
      return new RaftError('PROPOSAL_DROPPED', 'leadership transfer in progress', {
        details: { leaderId: state.transferee, outcome: 'not-applied' },
      });
    }
    return null;
  }

  #append(drafts: readonly (EntryDraft | Uint8Array)[]): ProposalPlacement {
    const firstIndex = this.#state.log.lastIndex + 1;
    appendAsLeader(this.#state, drafts);
    return {
      placed: true,
      term: this.#state.term,
      firstIndex,
      lastIndex: this.#state.log.lastIndex,
    };
  }

  /**
   * Tells the core that the runtime holds the data of `snapshot` (taken here, or installed from a
   * leader), so that as leader it can send it to followers whose entries were compacted away.
   */
  snapshotAvailable(snapshot: SnapshotMeta): void {
    const state = this.#state;
    if (state.snapshot === null || snapshot.index > state.snapshot.index) {
      state.snapshot = snapshot;
    }
  }

  /**
   * The metadata a snapshot taken at `index` carries: the term there and the configuration and
   * settings in force there. `index` must be applied and still in the log (or be its marker).
   */
  snapshotMeta(index: number): SnapshotMeta {
    const log = this.#state.log;
    if (!Number.isSafeInteger(index) || index < log.snapshotIndex || index > log.applying) {
      throw new RaftError(
        'INVALID_CONFIG',
        `a snapshot needs an applied index in the log (${log.snapshotIndex}..${log.applying}), got ${index}`,
        { details: { option: 'index', value: index } },
      );
    }
    return { index, term: log.term(index)!, ...this.#state.stateAt(index) };
  }

  /**
   * Forgets log entries up to `index` after the runtime compacted storage with
   * `snapshotMeta(index)`; later entries stay. The index must be applied and durable.
   */
  compact(index: number): void {
    const state = this.#state;
    if (index <= state.log.snapshotIndex) return;
    const base = state.stateAt(index);
    state.log.compact(index);
    state.rebaseHistory(index, base);
    state.trace({ kind: 'snapshot', id: state.id, peer: state.id, event: 'compact', index });
  }

  /**
   * Replaces the log's prefix with a snapshot received from the leader, once the runtime has
   * restored the state machine from it and compacted storage with the same metadata. Entries after
   * it stay when the log held its last entry (§7); the leader is told how far this server now is.
   */
  installSnapshot(snapshot: SnapshotMeta): void {
    const state = this.#state;
    validateConfiguration(snapshot.configuration);
    if (snapshot.index <= state.log.snapshotIndex) return;
    const kept = state.log.restore(snapshot.index, snapshot.term);
    if (!kept) {
      // Every configuration in the discarded log went with it.
      state.configurations.splice(0);
      state.settingsHistory.splice(0);
    }
    state.rebaseHistory(snapshot.index, {
      configuration: snapshot.configuration,
      settings: snapshot.settings,
    });
    this.snapshotAvailable(snapshot);
    state.trace({
      kind: 'snapshot',
      id: state.id,
      peer: state.id,
      event: 'install',
      index: snapshot.index,
    });
    if (state.leaderId !== null && state.leaderId !== state.id) {
      // Only the snapshot's index is known to match: entries kept after it may not be the leader's.
      state.sendAppendAccepted(state.leaderId, snapshot.index);
    }
  }

  /**
   * The runtime gave up sending snapshot `index` to `to` (no acknowledgement in time, or its data
   * went away). The follower is probed again from what it is known to hold; a later probe starts a
   * new transfer, which resumes where the follower's partial copy ends.
   */
  reportSnapshotFailed(to: NodeId, index: number): void {
    const state = this.#state;
    if (!this.isSendingSnapshot(to, index)) return;
    state.progress.get(to)!.abortSnapshot();
    state.trace({ kind: 'snapshot', id: state.id, peer: to, event: 'failed', index });
  }

  /** Whether this server leads and still wants snapshot `index` sent to `to`. */
  isSendingSnapshot(to: NodeId, index: number): boolean {
    const progress = this.#state.role === 'leader' ? this.#state.progress.get(to) : undefined;
    return progress?.state === 'snapshot' && progress.pendingSnapshot === index;
  }

  /** Whether `ready()` has anything to hand out. */
  hasReady(): boolean {
    const state = this.#state;
    return (
      this.#commitToBroadcast() ||
      state.messages.length > 0 ||
      state.readStates.length > 0 ||
      state.messagesAfterPersist.length > 0 ||
      state.snapshotTransfers.length > 0 ||
      state.snapshotMessages.length > 0 ||
      state.log.hasUnsent() ||
      state.log.hasCommittedToApply() ||
      !sameHardState(this.#hardState(), this.#lastHardState) ||
      !sameSoftState(this.#softState(), this.#lastSoftState)
    );
  }

  /** Collects the pending work; see `Ready` for the order the runtime must follow. */
  ready(): Ready {
    const state = this.#state;
    if (state.role === 'leader') broadcastCommit(state);
    const hardState = this.#hardState();
    const softState = this.#softState();
    const hardStateChanged = !sameHardState(hardState, this.#lastHardState);
    const entries = state.log.takeUnsent();
    const savedCommit = this.#commitToSave();
    // A leader's messages normally rest on a term already durable. Not when the term changed in
    // this very Ready (a lone voter elects itself at once), nor while an earlier Ready that changed
    // it is still being written: then they wait for the persist too, or a crash before it could
    // let the restarted server reuse the term with different entries.
    const termDurable = !hardStateChanged && this.#durableHardState.term === hardState.term;
    const early = state.messages.splice(0);
    const ready: Ready = {
      // The commit index is not worth a sync of its own; it rides along with any save.
      hardState:
        hardStateChanged || (entries.length > 0 && savedCommit > this.#lastSavedCommit)
          ? { ...hardState, commit: savedCommit }
          : null,
      entries,
      messages: termDurable ? early : [],
      messagesAfterPersist: [
        ...(termDurable ? [] : early),
        ...state.messagesAfterPersist.splice(0),
      ],
      committed: state.log.takeCommitted(state.options.applyEntriesMax),
      reads: state.readStates.splice(0),
      snapshotTransfers: state.snapshotTransfers.splice(0),
      snapshotMessages: state.snapshotMessages.splice(0),
      softState: sameSoftState(softState, this.#lastSoftState) ? null : softState,
    };
    this.#lastHardState = hardState;
    this.#lastSoftState = softState;
    if (ready.hardState !== null) this.#lastSavedCommit = ready.hardState.commit;
    return ready;
  }

  /**
   * Reports a Ready's writes durable. Ready values are advanced in the order they were taken; a
   * runtime may take the next Ready before advancing this one (its writes are then in flight),
   * and may apply `committed` after advancing.
   */
  advance(ready: Ready): void {
    const state = this.#state;
    if (ready.hardState !== null) this.#durableHardState = ready.hardState;
    const last = ready.entries.at(-1);
    if (last === undefined) return;
    state.log.stableTo(last.index, last.term);
    if (state.role !== 'leader') return;
    // The leader counts itself toward a quorum only for what its own disk holds.
    state.progress.get(state.id)?.maybeUpdate(state.log.stableIndex);
    maybeCommit(state);
    maybeFinishChange(state);
  }

  #commitToBroadcast(): boolean {
    const state = this.#state;
    if (state.role !== 'leader') return false;
    for (const [id, progress] of state.progress) {
      if (id !== state.id && progress.sentCommit < state.log.committed && !progress.paused)
        return true;
    }
    return false;
  }

  /** The hard state to persist now (term and vote; commit rides along). */
  #hardState(): HardState {
    return { term: this.#state.term, vote: this.#state.vote, commit: this.#state.log.committed };
  }

  /**
   * The commit index a save may record: only what earlier, finished saves made durable. A crash
   * during this save may keep its hard state but only part of its entries (the storage contract
   * allows it), so a commit index covering them could point past the log after a restart — which
   * is exactly how lost storage looks, and is reported as such.
   */
  #commitToSave(): number {
    return Math.min(this.#state.log.committed, this.#state.log.stableIndex);
  }

  #softState(): SoftState {
    return { role: this.#state.role, term: this.#state.term, leaderId: this.#state.leaderId };
  }

  status(): CoreStatus {
    const state = this.#state;
    return {
      id: state.id,
      role: state.role,
      term: state.term,
      vote: state.vote,
      leaderId: state.leaderId,
      commitIndex: state.log.committed,
      appliedIndex: state.log.applying,
      lastIndex: state.log.lastIndex,
      lastTerm: state.log.lastTerm,
      stableIndex: state.log.stableIndex,
      snapshotIndex: state.log.snapshotIndex,
      configuration: state.configuration,
      settings: state.settings,
      progress: [...state.progress].map(([id, progress]) => ({
        id,
        match: progress.match,
        next: progress.next,
        state: progress.state,
        pendingSnapshot: progress.pendingSnapshot,
        inflightMessages: progress.inflights.count,
        recentActive: progress.recentActive,
      })),
    };
  }

  /** The entry at `index` if this server holds it (for tests and diagnostics). */
  entry(index: number): Entry | undefined {
    return this.#state.log.entry(index);
  }
}

// Only term and vote must be durable before answering; a commit index alone is not worth a sync.
function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.term === b.term && a.leaderId === b.leaderId;
}

function refused(error: RaftError): ProposalPlacement {
  return { placed: false, error };
}

/**
 * Runs one of the configuration checks, which throw what they refuse, and hands back a refusal
 * (a RaftError with an outcome) as a value; anything else, an invariant above all, still throws.
 */
function refusalOf<T>(check: () => T): T | RaftError {
  try {
    return check();
  } catch (error) {
    if (error instanceof RaftError && error.details.outcome === 'not-applied') return error;
    throw error;
  }
}
