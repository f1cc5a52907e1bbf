/**
 * The executable contracts, as Vitest suites: `raftkit/testing/contracts`. They live apart from
 * `raftkit/testing` because they import `vitest` (an optional peer), while the simulator, the
 * checkers and the tracer are plain code that loads anywhere.
 */
export { logStorageContract, type LogStorageContractOptions } from './log-storage-contract.js';
export { transportContract, sampleMessages } from './transport-contract.js';
export type { TransportContractOptions, TransportFixture } from './transport-contract.js';
