export { HttpTransport } from './http-transport.js';
export type { HttpTransportOptions, HttpTransportStats } from './http-transport.js';
