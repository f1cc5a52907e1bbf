import { isVoter, membersOf, type Role } from './configuration.js';
import type { InstallSnapshot, InstallSnapshotResponse, RaftMessage } from './messages.js';
import type { ResolvedCoreOptions } from './options.js';
import { Progress } from './progress.js';
import type { VoterSets } from './quorum.js';
import type { RaftLog } from './raft-log.js';
import type { CoreTraceEvent } from './trace-event.js';
import type { ClusterSettings, Configuration, Entry, NodeId, SnapshotMeta } from './types.js';

/**
 * The answer to a read request: once confirmed, serve it when the state machine has applied
 * `index`; refused when leadership could not be confirmed (the caller may retry elsewhere).
 */
export type ReadState =
  | {
      /** The context the requester chose. */
      readonly context: number;
      readonly confirmed: true;
      /** The commit index the read may be served at. */
      readonly index: number;
    }
  | { readonly context: number; readonly confirmed: false };

/**
 * A read the leader is confirming with a heartbeat round (thesis §6.4): confirmed once a quorum has
 * acknowledged `round` or a later round, all sent after the read arrived.
 */
export interface PendingRead {
  readonly round: number;
  readonly index: number;
  readonly from: NodeId;
  readonly context: number;
}

/** A configuration or settings value and the log index it came from (0: the snapshot marker). */
interface Indexed<T> {
  readonly index: number;
  readonly value: T;
}

/**
 * The mutable state of one core, shared by the role modules. Internal: the public surface is
 * `RaftCore`. Fields are plain so that the step functions stay short and readable.
 */
export class CoreState {
  readonly options: ResolvedCoreOptions;
  readonly id: NodeId;
  readonly log: RaftLog;
  term: number;
  vote: NodeId | null;
  role: Role = 'follower';
  leaderId: NodeId | null = null;
  /** Votes received in the current campaign (real or pre-vote). */
  readonly votes = new Map<NodeId, boolean>();
  /** The leader's per-member replication state, this server's own entry included. */
  readonly progress = new Map<NodeId, Progress>();
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Set while a leadership transfer to this member is under way. */
  transferee: NodeId | null = null;
  /** Bytes of the leader's uncommitted command entries, bounded by `uncommittedBytesMax`. */
  uncommittedBytes = 0;
  /** Every configuration in the log after the snapshot, oldest first; the last one is in force. */
  readonly configurations: Indexed<Configuration>[];
  readonly settingsHistory: Indexed<ClusterSettings>[];
  /** The committed configuration the leader's progress records were last synchronised with. */
  progressConfigurationIndex = -1;
  /** Reads the leader is confirming with a heartbeat round, oldest first. */
  readonly pendingReads: PendingRead[] = [];
  /** Reads that arrived before the leader committed an entry of its own term. */
  readonly readsAwaitingCommit: { readonly from: NodeId; readonly context: number }[] = [];
  /** Ticks since this core was created: the leader's clock for its lease. */
  ticks = 0;
  /** The number of the last heartbeat round; rounds count up for the whole life of the core. */
  heartbeatRound = 0;
  /** The first round sent at each recent tick, oldest first, to date acknowledged rounds. */
  readonly roundStarts: { readonly firstRound: number; readonly tick: number }[] = [];
  /** Set once this term's leadership was offered to another server: no lease for the term. */
  leaseForfeited = false;
  /**
   * A restarted server may have acknowledged a leader's heartbeat just before it went down, and
   * that leader may be serving lease reads on the strength of it. Until an election timeout has
   * passed since then, it refuses to vote as if it had heard from a leader just now: these are the
   * ticks of that wait still to run (the time the runtime spent restoring already counts).
   */
  quietTicksLeft: number;
  /** Confirmed (or failed) reads for the runtime, collected into the next Ready. */
  readonly readStates: ReadState[] = [];
  readonly messages: RaftMessage[] = [];
  readonly messagesAfterPersist: RaftMessage[] = [];
  /** The newest snapshot the runtime holds data for, which a leader sends to lagging followers. */
  snapshot: SnapshotMeta | null = null;
  /** Snapshot transfers the leader asks the runtime to start, collected into the next Ready. */
  readonly snapshotTransfers: { readonly to: NodeId; readonly snapshot: SnapshotMeta }[] = [];
  /** Snapshot chunks (follower) and chunk acknowledgements (leader) for the runtime to handle. */
  readonly snapshotMessages: (InstallSnapshot | InstallSnapshotResponse)[] = [];

  constructor(init: {
    options: ResolvedCoreOptions;
    log: RaftLog;
    term: number;
    vote: NodeId | null;
    configuration: Configuration;
    settings: ClusterSettings;
  }) {
    this.options = init.options;
    this.id = init.options.id;
    this.log = init.log;
    this.term = init.term;
    this.vote = init.vote;
    // A server that never left term 0 never followed anyone.
    const { electionTicks, silentTicks } = init.options;
    this.quietTicksLeft = init.term > 0 ? Math.max(0, electionTicks - silentTicks) : 0;
    this.configurations = [{ index: init.log.snapshotIndex, value: init.configuration }];
    this.settingsHistory = [{ index: init.log.snapshotIndex, value: init.settings }];
    for (let index = init.log.firstIndex; index <= init.log.lastIndex; index++) {
      this.recordEntry(init.log.entry(index)!);
    }
    // Silent ticks passed without word from a leader too: they count toward the election timeout,
    // short of a whole one, so servers of a cluster restarted together still draw who goes first
    // from its randomized part. Only with PreVote: a server that may campaign a tick after it
    // starts must not be able to depose a leader it has not heard from yet, and a pre-vote that
    // peers who hear from that leader refuse cannot.
    this.electionElapsed = this.settings.preVote ? Math.min(silentTicks, electionTicks - 1) : 0;
  }

  get configuration(): Configuration {
    return this.configurations.at(-1)!.value;
  }

  get settings(): ClusterSettings {
    return this.settingsHistory.at(-1)!.value;
  }

  get voterSets(): VoterSets {
    return this.configuration;
  }

  /** Whether this server may campaign: only voters can. */
  get promotable(): boolean {
    return isVoter(this.configuration, this.id);
  }

  trace(event: CoreTraceEvent): void {
    this.options.tracer?.(event);
  }

  /**
   * Queues a message. A leader's messages rest on state that is already durable (its term was
   * persisted before it asked for votes), so they go out at once; everything else waits for the
   * persist of the Ready it belongs to.
   */
  send(message: RaftMessage): void {
    if (this.role === 'leader') this.messages.push(message);
    else this.messagesAfterPersist.push(message);
  }

  /** Tells `to` (the leader) that this server's log matches its own up to `matchIndex`. */
  sendAppendAccepted(to: NodeId, matchIndex: number): void {
    this.send({
      type: 'append-entries-response',
      term: this.term,
      from: this.id,
      to,
      success: true,
      matchIndex,
    });
  }

  /** Tracks configuration and settings entries as they enter the log: they take effect at once. */
  recordEntry(entry: Entry): void {
    if (entry.kind === 'configuration') {
      this.configurations.push({ index: entry.index, value: entry.configuration });
      this.syncProgress();
    } else if (entry.kind === 'settings') {
      this.settingsHistory.push({ index: entry.index, value: entry.settings });
    }
  }

  /** Forgets configuration and settings entries that a truncation removed from the log. */
  forgetFrom(index: number): void {
    let changed = false;
    while (this.configurations.length > 1 && this.configurations.at(-1)!.index >= index) {
      this.configurations.pop();
      changed = true;
    }
    while (this.settingsHistory.length > 1 && this.settingsHistory.at(-1)!.index >= index) {
      this.settingsHistory.pop();
    }
    if (changed) this.syncProgress();
  }

  /** The configuration and settings in force at `index`, which must lie within the log. */
  stateAt(index: number): { configuration: Configuration; settings: ClusterSettings } {
    const at = <T>(history: readonly Indexed<T>[]): T => {
      let found = history[0]!;
      for (const item of history) if (item.index <= index) found = item;
      return found.value;
    };
    return { configuration: at(this.configurations), settings: at(this.settingsHistory) };
  }

  /**
   * Rebases the configuration and settings history on a new compaction marker at `index`: what
   * was in force there becomes the base, and later entries stay.
   */
  rebaseHistory(
    index: number,
    base: { configuration: Configuration; settings: ClusterSettings },
  ): void {
    const rebase = <T>(history: Indexed<T>[], value: T): void => {
      const later = history.filter((item) => item.index > index);
      history.splice(0, history.length, { index, value }, ...later);
    };
    rebase(this.configurations, base.configuration);
    rebase(this.settingsHistory, base.settings);
    this.syncProgress();
  }

  /** The index of the newest configuration entry (0 or the snapshot index if none is in the log). */
  get configurationIndex(): number {
    return this.configurations.at(-1)!.index;
  }

  /** The newest configuration whose entry is committed (the snapshot's when none in the log is). */
  get committedConfiguration(): Indexed<Configuration> {
    for (let position = this.configurations.length - 1; position > 0; position--) {
      const indexed = this.configurations[position]!;
      if (indexed.index <= this.log.committed) return indexed;
    }
    return this.configurations[0]!;
  }

  /**
   * On a leader, keeps one progress record per member of the configuration in force and of the
   * last committed one: a server being removed keeps receiving the log until its removal commits,
   * so it learns of it and stops campaigning instead of timing out and disrupting the others.
   */
  syncProgress(): void {
    if (this.role !== 'leader') return;
    const members = new Set([
      ...membersOf(this.configuration),
      ...membersOf(this.committedConfiguration.value),
    ]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      if (!this.progress.has(id)) this.progress.set(id, this.newProgress(id));
    }
  }

  newProgress(id: NodeId): Progress {
    const progress = new Progress({
      next: this.log.lastIndex + 1,
      inflightMessagesMax: this.options.inflightMessagesMax,
      inflightBytesMax: this.options.inflightBytesMax,
    });
    if (id === this.id) {
      progress.match = this.log.stableIndex;
      progress.becomeReplicate();
      progress.recentActive = true;
    }
    return progress;
  }

  resetRandomizedElectionTimeout(): void {
    const jitter = Math.floor(this.options.random() * this.options.electionTicks);
    this.randomizedElectionTimeout = this.options.electionTicks + jitter;
  }
}
