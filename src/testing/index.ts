export * from './linearizability/index.js';
export * from './trace/index.js';
export * from './sim/index.js';
export * from './checkers/index.js';
export { mutateFrame, randomMessage, runCodecFuzz, type FuzzReport } from './codec-fuzz.js';
