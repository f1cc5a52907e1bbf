import type { Message } from '../../codec/messages.js';
import type { Entry, NodeId } from '../../core/types.js';
import { AcknowledgedWritesChecker } from './acknowledged-writes.js';
import type { ClusterView, LogView } from './cluster-view.js';
import { CommitDurabilityChecker } from './commit-durability.js';
import { CommitMonotonicChecker } from './commit-monotonic.js';
import { CommittedLogChecker } from './committed-log.js';
import { DurableResponsesChecker } from './durable-responses.js';
import { ElectableCompletenessChecker } from './electable-completeness.js';
import { ElectionSafetyChecker } from './election-safety.js';
import { ExactlyOnceChecker } from './exactly-once.js';
import { LeaderCompletenessChecker } from './leader-completeness.js';
import { LogMatchingChecker } from './log-matching.js';
import { ReadIndexChecker } from './read-index.js';
import { SafetyViolationError, ViolationLog, type SafetyViolation } from './safety-violation.js';
import { SingleVoteChecker } from './single-vote.js';
import { StateMachineSafetyChecker, type AppliedEntry } from './state-machine-safety.js';

/** What {@link ClusterCheckers} judges and how it stamps what it finds. */
export interface ClusterCheckersOptions {
  /** The (virtual) time, stamped on violations. */
  readonly now: () => number;
  /** The cluster, read after every step and when a message leaves a server. */
  readonly cluster: ClusterView;
}

/**
 * Every Raft safety checker, fed by one cluster. The cluster reports what happens (messages sent,
 * entries written and applied, snapshots restored, leaders elected) and calls
 * {@link serversChanged} after every step; the checkers read the rest from its
 * {@link ClusterView}. The script cluster and the simulator both drive it; a user driving their
 * own cluster can do the same.
 */
export class ClusterCheckers {
  readonly #log: ViolationLog;
  readonly #cluster: ClusterView;
  readonly electionSafety: ElectionSafetyChecker;
  readonly singleVote: SingleVoteChecker;
  readonly durableResponses: DurableResponsesChecker;
  readonly logMatching: LogMatchingChecker;
  readonly committedLog: CommittedLogChecker;
  readonly stateMachineSafety: StateMachineSafetyChecker;
  readonly leaderCompleteness: LeaderCompletenessChecker;
  readonly electableCompleteness: ElectableCompletenessChecker;
  readonly commitMonotonic: CommitMonotonicChecker;
  readonly commitDurability: CommitDurabilityChecker;
  readonly readIndex: ReadIndexChecker;
  readonly acknowledgedWrites: AcknowledgedWritesChecker;
  readonly exactlyOnce: ExactlyOnceChecker;

  constructor(options: ClusterCheckersOptions) {
    this.#log = new ViolationLog(options.now);
    this.#cluster = options.cluster;
    this.electionSafety = new ElectionSafetyChecker(this.#log);
    this.singleVote = new SingleVoteChecker(this.#log);
    this.durableResponses = new DurableResponsesChecker(this.#log);
    this.logMatching = new LogMatchingChecker(this.#log);
    this.committedLog = new CommittedLogChecker(this.#log);
    this.stateMachineSafety = new StateMachineSafetyChecker(this.#log, this.committedLog);
    this.leaderCompleteness = new LeaderCompletenessChecker(this.#log, this.committedLog);
    this.electableCompleteness = new ElectableCompletenessChecker(this.#log);
    this.commitMonotonic = new CommitMonotonicChecker(this.#log);
    this.commitDurability = new CommitDurabilityChecker(this.#log);
    this.readIndex = new ReadIndexChecker(this.#log);
    this.acknowledgedWrites = new AcknowledgedWritesChecker(this.#log);
    this.exactlyOnce = new ExactlyOnceChecker(this.#log);
  }

  /** The shared violation log (also for reporting violations found elsewhere). */
  get log(): ViolationLog {
    return this.#log;
  }

  /** Checks performed so far. */
  get checks(): number {
    return this.#log.checks;
  }

  /** Violations found so far. */
  get violations(): readonly SafetyViolation[] {
    return this.#log.violations;
  }

  /** Throws the first violation found so far as a {@link SafetyViolationError}, if there is one. */
  throwFirstViolation(): void {
    const first = this.#log.violations[0];
    if (first !== undefined) throw new SafetyViolationError(first.property, first.message);
  }

  /** `nodeId` became leader of `term` holding `log`. */
  leaderElected(nodeId: NodeId, term: number, log: LogView): void {
    this.electionSafety.observeLeader(nodeId, term);
    this.leaderCompleteness.observeLeader(nodeId, term, log);
  }

  /** `nodeId` stopped leading. */
  leaderGone(nodeId: NodeId): void {
    this.leaderCompleteness.observeNotLeader(nodeId);
  }

  /** `message` left `message.from`: votes and acknowledgements are checked. */
  messageSent(message: Message): void {
    if (message.type === 'request-vote-response') {
      if (message.granted && !message.preVote) {
        this.singleVote.observeVote(message.from, message.to, message.term);
      }
    } else if (message.type !== 'append-entries-response') {
      return;
    }
    const sender = this.#cluster.server(message.from);
    if (sender !== undefined) this.durableResponses.observeSent(message, sender.durable);
  }

  /** `nodeId` wrote `entries` to its log, which now holds them. */
  entriesWritten(nodeId: NodeId, entries: readonly Entry[], log: LogView): void {
    this.logMatching.observeEntries(nodeId, entries, log);
  }

  /** `nodeId` (process incarnation `incarnation`) applied `entry`. */
  entryApplied(nodeId: NodeId, incarnation: number, entry: AppliedEntry): void {
    this.stateMachineSafety.observeApplied(nodeId, incarnation, entry);
  }

  /** `nodeId` (incarnation `incarnation`) restored a snapshot covering entries up to `index`. */
  snapshotRestored(nodeId: NodeId, incarnation: number, index: number): void {
    this.stateMachineSafety.observeRestored(nodeId, incarnation, index);
  }

  /**
   * After a step: reads the servers in `ids` (those whose code ran; no other can have changed),
   * checks each one's state, then the properties that span the cluster.
   */
  serversChanged(ids: Iterable<NodeId>): void {
    let changed = false;
    for (const id of ids) {
      changed = true;
      const server = this.#cluster.server(id);
      if (server === undefined) continue;
      const { durable, process } = server;
      if (durable.vote !== null) this.singleVote.observeVote(id, durable.vote, durable.term);
      if (process === null) {
        this.leaderGone(id);
        continue;
      }
      this.commitMonotonic.observeCommit(id, process.incarnation, process);
      if (process.role === 'leader') this.leaderElected(id, process.term, process.log);
      else this.leaderGone(id);
      this.commitDurability.observe(server, this.#cluster);
      for (const committed of this.committedLog.observeCommit(id, process)) {
        this.leaderCompleteness.observeCommitted(committed);
      }
    }
    // Nothing ran, nothing changed: the cluster-wide picture is the one already judged.
    if (changed) this.electableCompleteness.check(this.#cluster, this.committedLog.highest);
  }

  /** The commands of the committed log, as far as any node applied it. */
  committedCommands(): Set<string> {
    const commands = new Set<string>();
    for (const entry of this.stateMachineSafety.committedEntries().values()) {
      if (entry.command !== null) commands.add(entry.command);
    }
    return commands;
  }
}
