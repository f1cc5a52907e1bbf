export * from './types.js';
export * from './messages.js';
export * from './errors.js';
