// What programs outside the KV server (benchmarks, examples, other apps) may use from it: a RESP
// client and the address helpers. Everything else in this folder is the server's own business.
export { splitHostPort, type ClusterLayout, type MemberAddresses } from './cluster-layout.js';
export { formatReply, RespClient, sendOnce } from './resp/resp-client.js';
