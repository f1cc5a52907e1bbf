export { logStorageContract, type LogStorageContractOptions } from './log-storage-contract.js';
export * from './linearizability/index.js';
export * from './trace/index.js';
