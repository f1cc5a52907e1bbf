export { logStorageContract, type LogStorageContractOptions } from './log-storage-contract.js';
export * from './linearizability/index.js';
export * from './trace/index.js';
export * from './sim/index.js';
export * from './checkers/index.js';
export { transportContract, sampleMessages } from './transport-contract.js';
export type { TransportContractOptions, TransportFixture } from './transport-contract.js';
