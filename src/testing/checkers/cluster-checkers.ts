import type { Entry, NodeId } from '../../core/types.js';
import type { AppliedEntry } from '../sim/recording-state-machine.js';
import { AcknowledgedWritesChecker } from './acknowledged-writes.js';
import { CommitMonotonicChecker } from './commit-monotonic.js';
import { ElectionSafetyChecker } from './election-safety.js';
import { ExactlyOnceChecker } from './exactly-once.js';
import { LeaderCompletenessChecker, type LeaderLogView } from './leader-completeness.js';
import { LogMatchingChecker, type LogView } from './log-matching.js';
import { ViolationLog, type SafetyViolation } from './safety-violation.js';
import { SingleVoteChecker } from './single-vote.js';
import { StateMachineSafetyChecker } from './state-machine-safety.js';

/**
 * Every Raft safety checker, fed by one cluster. The simulator calls it as things happen and after
 * every step; a user driving their own cluster can do the same.
 */
export class ClusterCheckers {
  readonly #log: ViolationLog;
  readonly electionSafety: ElectionSafetyChecker;
  readonly singleVote: SingleVoteChecker;
  readonly logMatching: LogMatchingChecker;
  readonly stateMachineSafety: StateMachineSafetyChecker;
  readonly leaderCompleteness: LeaderCompletenessChecker;
  readonly commitMonotonic: CommitMonotonicChecker;
  readonly acknowledgedWrites: AcknowledgedWritesChecker;
  readonly exactlyOnce: ExactlyOnceChecker;

  /** `now` stamps violations with the (virtual) time. */
  constructor(now: () => number) {
    this.#log = new ViolationLog(now);
    this.electionSafety = new ElectionSafetyChecker(this.#log);
    this.singleVote = new SingleVoteChecker(this.#log);
    this.logMatching = new LogMatchingChecker(this.#log);
    this.stateMachineSafety = new StateMachineSafetyChecker(this.#log);
    this.leaderCompleteness = new LeaderCompletenessChecker(this.#log, this.stateMachineSafety);
    this.commitMonotonic = new CommitMonotonicChecker(this.#log);
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

  /** `nodeId` became leader of `term` holding `log`. */
  leaderElected(nodeId: NodeId, term: number, log: LeaderLogView): void {
    this.electionSafety.observeLeader(nodeId, term);
    this.leaderCompleteness.observeLeader(nodeId, term, log);
  }

  /** A message left `message.from`; votes are checked. */
  messageSent(message: {
    readonly type: string;
    readonly from: NodeId;
    readonly to: NodeId;
    readonly term?: number;
    readonly preVote?: boolean;
    readonly granted?: boolean;
  }): void {
    if (message.type !== 'request-vote-response' || message.preVote === true) return;
    if (message.granted === true && message.term !== undefined) {
      this.singleVote.observeVote(message.from, message.to, message.term);
    }
  }

  /** `nodeId` stopped leading. */
  leaderGone(nodeId: NodeId): void {
    this.leaderCompleteness.observeNotLeader(nodeId);
  }

  /** `nodeId` wrote `entries` to its log. */
  entriesWritten(nodeId: NodeId, entries: readonly Entry[], log: LogView): void {
    this.logMatching.observeEntries(nodeId, entries, log);
  }

  /** `nodeId` (incarnation `incarnation`, in `term`) applied `entry`. */
  entryApplied(nodeId: NodeId, incarnation: number, entry: AppliedEntry, term: number): void {
    const record = this.stateMachineSafety.observeApplied(nodeId, incarnation, entry, term);
    if (record !== null) this.leaderCompleteness.observeCommitted(record);
  }

  /** `nodeId` (incarnation `incarnation`) restored a snapshot covering entries up to `index`. */
  snapshotRestored(nodeId: NodeId, incarnation: number, index: number): void {
    this.stateMachineSafety.observeRestored(nodeId, incarnation, index);
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
