export * from './linearizability/index.js';
export * from './trace/index.js';
export * from './sim/index.js';
export * from './checkers/index.js';
