export {
  checkLinearizability,
  linearizabilityCheckDefaults,
  type CheckLinearizabilityOptions,
  type LinearizabilityExplanation,
  type LinearizabilityResult,
  type LinearizabilityVerdict,
  type LinearizableResult,
  type NotLinearizableResult,
  type PartitionReport,
  type UnknownLinearizabilityResult,
} from './check-linearizability.js';
export {
  HistoryRecorder,
  historyRecorderDefaults,
  type HistoryRecorderOptions,
  type OperationHandle,
} from './history-recorder.js';
export {
  keyValueModel,
  type KeyValueInput,
  type KeyValueOperation,
  type KeyValueOutput,
  type KeyValueState,
} from './key-value-model.js';
export { partitionByKey, type SequentialModel, type StepResult } from './sequential-model.js';
export type {
  CompletedOperation,
  FailedOperation,
  History,
  Operation,
  PendingOperation,
  ProcessId,
} from './operation.js';
export { parseJepsenHistory } from './parse-jepsen-history.js';
export type { SearchStopReason } from './search-budget.js';
