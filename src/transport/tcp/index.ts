export { TcpTransport } from './tcp-transport.js';
export { tcpTransportDefaults } from './tcp-options.js';
export type { TcpTlsOptions, TcpTransportOptions } from './tcp-options.js';
export type { TcpTransportStats } from './tcp-stats.js';
