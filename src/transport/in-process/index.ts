export { inProcessNetworkDefaults, perfectNetwork } from './in-process-network-options.js';
export { InProcessNetwork } from './in-process-network.js';
export { InProcessTransport } from './in-process-transport.js';
export type {
  DropReason,
  InProcessNetworkOptions,
  InProcessNetworkStats,
  MessageInterceptor,
  NetworkEvent,
  NetworkFaults,
} from './in-process-network-options.js';
