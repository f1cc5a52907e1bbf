// Proposals per second that a 3-node cluster commits and applies, with every node in this process
// on the in-process network and memory storage: the cost of raftkit itself, without disks or
// sockets. Each shape runs twice: plain proposals, and the same through one client session
// (exactly-once, docs/sessions.md), so the price of sessions reads off side by side. Prints a
// table and writes bench/results/node-throughput.json. `npm run bench` runs the plain shapes beside
// the core alone and the peers.
//
//   node --conditions=raftkit-source --import tsx bench/node-throughput.ts [--seconds 5]
//     [--in-flight 1,64,1024] [--plain]
//
// `--in-flight` runs only the listed shapes and `--plain` leaves out the session rows, so one
// shape can be run alone under a profiler.
import { mkdirSync, writeFileSync } from 'node:fs';
import { measureNodes, type InProcessRow } from './lib/in-process.js';

function flag(name: string): string | undefined {
  const position = process.argv.indexOf(name);
  return position > 0 ? process.argv[position + 1] : undefined;
}

const seconds = Number(flag('--seconds') ?? 3);
const inFlightShapes = (flag('--in-flight') ?? '1,64,1024').split(',').map(Number);
for (const inFlight of inFlightShapes) {
  if (!Number.isInteger(inFlight) || inFlight < 1) {
    throw new Error(`--in-flight takes positive integers separated by commas, got ${inFlight}`);
  }
}
const sessionShapes = process.argv.includes('--plain') ? [false] : [false, true];
const results: (InProcessRow & { readonly cpuMicrosPerProposal: number })[] = [];
for (const inFlight of inFlightShapes) {
  for (const session of sessionShapes) {
    // CPU time of the whole process (every thread, the collector's too) per proposal: on a shared
    // machine it moves less than the wall-clock rate does. Start and election are included.
    const cpuBefore = process.cpuUsage();
    const result = await measureNodes(inFlight, seconds, { session });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMicrosPerProposal = Number(((cpu.user + cpu.system) / result.proposals).toFixed(2));
    results.push({ ...result, cpuMicrosPerProposal });
    console.log(
      `3 nodes, ${String(inFlight).padStart(4)} in flight, ${session ? 'session ' : 'plain   '}: ${String(result.proposalsPerSecond).padStart(8)} proposals/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  CPU ${cpuMicrosPerProposal} µs/proposal`,
    );
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/node-throughput.json', JSON.stringify(results, null, 2));
