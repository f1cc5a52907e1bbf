export {
  inProcessNetworkDefaults,
  InProcessNetwork,
  InProcessTransport,
  perfectNetwork,
} from './in-process-network.js';
export type {
  DropReason,
  InProcessNetworkOptions,
  InProcessNetworkStats,
  MessageInterceptor,
  NetworkEvent,
  NetworkFaults,
} from './in-process-network.js';
