export { AcknowledgedWritesChecker, acknowledgedWritesMax } from './acknowledged-writes.js';
export { ClusterCheckers } from './cluster-checkers.js';
export { CommitMonotonicChecker } from './commit-monotonic.js';
export { ElectionSafetyChecker, electionSafetyTermsMax } from './election-safety.js';
export { ExactlyOnceChecker, sessionCommandsMax } from './exactly-once.js';
export { LeaderCompletenessChecker, type LeaderLogView } from './leader-completeness.js';
export { LogMatchingChecker, type LogView } from './log-matching.js';
export {
  SafetyViolationError,
  ViolationLog,
  type SafetyProperty,
  type SafetyViolation,
} from './safety-violation.js';
export { SingleVoteChecker, singleVoteTermsMax } from './single-vote.js';
export { StateMachineSafetyChecker, type CommittedEntry } from './state-machine-safety.js';
