export { formatAddress, parseAddress, samePeers } from './discovery.js';
export type { Discovery, PeerAddress, PeersListener } from './discovery.js';
export { StaticDiscovery } from './static-discovery.js';
