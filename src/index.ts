export * from './core/index.js';
export * from './node/index.js';
export type * from './storage/log-storage.js';
export type * from './transport/transport.js';
