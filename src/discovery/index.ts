export { formatAddress, parseAddress, samePeers } from './discovery.js';
export type { Discovery, PeerAddress, PeersListener } from './discovery.js';
export { DnsDiscovery, dnsDiscoveryDefaults } from './dns-discovery.js';
export type { DnsDiscoveryOptions } from './dns-discovery.js';
export { StaticDiscovery } from './static-discovery.js';
