export { RaftNode } from './raft-node.js';
export type { NodeStatus } from './node-status.js';
export type {
  CommandOptions,
  ProposeOptions,
  ReadOptions,
  ReadConsistency,
  SessionStamp,
} from './request-options.js';
export { ClientSession } from './sessions.js';
export type { ClientSessionOptions, SessionHost, SessionProposeOptions } from './sessions.js';
export type { SessionLimits } from './session-envelope.js';
export { sessionDefaults, snapshotDefaults } from './node-options.js';
export type { RaftNodeOptions, SnapshotOptions } from './node-options.js';
export type { RaftNodeEvents } from './node-events.js';
export { diagnosticsChannelName } from './node-events.js';
export { coreTraceChannelName } from './core-trace-channel.js';
export type { StateMachine, ApplyContext, ResultCodec } from './state-machine.js';
export { jsonResultCodec } from './state-machine.js';
export { CommandRejection, rejectCommand } from './command-rejection.js';
export type { BatchResult } from './proposal-batch.js';
export type { Clock, TimerHandle } from '../platform/clock.js';
export { realClock } from '../platform/clock.js';
export { SimulatedClock } from './simulated-clock.js';
export type { Unsubscribe } from './typed-emitter.js';
export type { NodeCounterValues } from './node-counters.js';
export { clearBrokenMark } from './broken-mark.js';
export type { Logger, LogFields, LogLevel, StreamLoggerOptions } from '../platform/logger.js';
export {
  childLogger,
  createStreamLogger,
  describeError,
  logLevels,
  silentLogger,
} from '../platform/logger.js';
export { logNodeEvents, type NodeEventSource } from './log-node-events.js';
