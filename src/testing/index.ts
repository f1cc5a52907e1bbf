export { logStorageContract, type LogStorageContractOptions } from './log-storage-contract.js';
