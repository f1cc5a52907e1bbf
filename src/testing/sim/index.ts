export { SimCluster } from './sim-cluster.js';
export { derivedRandom } from './derived-random.js';
export type { SimClusterListener } from './cluster-listener.js';
export {
  fastDisk,
  runUntilDefaults,
  simClusterDefaults,
  type CrashOptions,
  type DiskLatency,
  type RunUntilOptions,
  type SimClusterOptions,
  type SimOwnedNodeOption,
} from './sim-options.js';
export {
  and,
  or,
  whenAnyLeader,
  whenCommitIndex,
  whenLeader,
  whenMessageSent,
  type ArmedTrigger,
  type MessagePattern,
  type PauseCondition,
  type PauseTarget,
  type PauseTrigger,
} from './pause-triggers.js';
export {
  KeyValueStateMachine,
  KeyValueStore,
  decodeKeyValueCommand,
  encodeKeyValueCommand,
  type KeyValueCommand,
} from './key-value-state-machine.js';
export { FaultCounts, type FaultKind } from './fault-counts.js';
export { ShadowLog } from './shadow-log.js';
export type { SimStorage } from './sim-storage.js';
export {
  formatSimReport,
  replayCommand,
  runSimulation,
  simRunDefaults,
  type SimRunOptions,
  type SimRunResult,
} from './run-simulation.js';
export { SimSummary } from './sim-summary.js';
export {
  KeyValueWorkload,
  definitelyNotApplied,
  keyValueWorkloadDefaults,
  type KeyValueWorkloadOptions,
  type ReadPath,
} from './sim-workload.js';
export { FaultInjector } from './fault-injector.js';
export {
  drawFaultPlan,
  drawNetworkFaults,
  faultPlanLimits,
  type FaultPlan,
  type FaultWeights,
} from './fault-plan.js';
