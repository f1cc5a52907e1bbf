// Proposals per second that a 3-node cluster commits and applies, with every node in this process
// on the in-process network and memory storage: the cost of raftkit itself, without disks or
// sockets. Each shape runs twice: plain proposals, and the same through one client session
// (exactly-once, docs/sessions.md), so the price of sessions reads off side by side. Prints a
// table and writes bench/results/node-throughput.json. `npm run bench` runs the plain shapes beside
// the core alone and the peers.
//
//   node --conditions=raftkit-source --import tsx bench/node-throughput.ts [--seconds 5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { measureNodes, type InProcessRow } from './lib/in-process.js';

const secondsFlag = process.argv.indexOf('--seconds');
const seconds = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 3;
const results: InProcessRow[] = [];
for (const inFlight of [1, 64, 1024]) {
  for (const session of [false, true]) {
    const result = await measureNodes(inFlight, seconds, { session });
    results.push(result);
    console.log(
      `3 nodes, ${String(inFlight).padStart(4)} in flight, ${session ? 'session ' : 'plain   '}: ${String(result.proposalsPerSecond).padStart(8)} proposals/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms`,
    );
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/node-throughput.json', JSON.stringify(results, null, 2));
