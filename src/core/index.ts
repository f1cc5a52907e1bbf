export * from './types.js';
export * from './messages.js';
export * from './errors.js';
export { RaftCore } from './raft-core.js';
export type {
  CoreStartState,
  CoreStatus,
  PeerProgress,
  PlacedProposals,
  ProposalPlacement,
} from './raft-core.js';
export type { Ready, SnapshotTransfer, SoftState } from './ready.js';
export type { ReadState } from './state.js';
export type { MembershipTarget, Role } from './configuration.js';
export {
  isVoter,
  isMember,
  membersOf,
  isJoint,
  validateConfiguration,
  checkTransition,
  planChange,
  leaveJoint,
} from './configuration.js';
export { coreDefaults, positiveIntegerOption, resolveCoreOptions } from './options.js';
export type { RaftCoreOptions, ResolvedCoreOptions } from './options.js';
export type { CoreTraceEvent } from './trace-event.js';
export { seededRandom, hashString } from './random.js';
export type { RandomSource } from './random.js';
export { majoritySize, majorityIndex, majorityVote, jointIndex, jointVote } from './quorum.js';
export type { VoteOutcome, VoterSets } from './quorum.js';
export { formatMessage, formatEntry } from './format.js';
