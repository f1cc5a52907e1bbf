// What programs outside the CLI (benchmarks, tests of other apps) may use from it: starting and
// stopping a local cluster of KV server processes, as `raftkit cluster start` does.
export { freePortLayout, LocalCluster } from './local-cluster.js';
