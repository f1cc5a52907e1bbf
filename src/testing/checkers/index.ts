export { AcknowledgedWritesChecker, acknowledgedWritesMax } from './acknowledged-writes.js';
export { ClusterCheckers, type ClusterCheckersOptions } from './cluster-checkers.js';
export {
  arrayLogView,
  isQuorum,
  type ClusterView,
  type DurableView,
  type LogView,
  type ProcessView,
  type ServerView,
} from './cluster-view.js';
export { CommitDurabilityChecker } from './commit-durability.js';
export { CommitMonotonicChecker } from './commit-monotonic.js';
export { CommittedLogChecker, committedEntriesMax, type CommittedEntry } from './committed-log.js';
export { DurableResponsesChecker } from './durable-responses.js';
export { ElectableCompletenessChecker } from './electable-completeness.js';
export { ElectionSafetyChecker, electionSafetyTermsMax } from './election-safety.js';
export { commandKey, entryContentKey, entryKey } from './entry-key.js';
export { ExactlyOnceChecker, sessionCommandsMax } from './exactly-once.js';
export { LeaderCompletenessChecker } from './leader-completeness.js';
export { LogMatchingChecker } from './log-matching.js';
export { ReadIndexChecker, pendingReadsTrackedMax } from './read-index.js';
export {
  SafetyViolationError,
  ViolationLog,
  type SafetyProperty,
  type SafetyViolation,
} from './safety-violation.js';
export { SingleVoteChecker, singleVoteTermsMax } from './single-vote.js';
export {
  StateMachineSafetyChecker,
  appliedEntryOf,
  type AppliedEntry,
  type AppliedRecord,
} from './state-machine-safety.js';
