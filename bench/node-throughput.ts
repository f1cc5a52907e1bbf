// Proposals per second that a 3-node cluster commits and applies, with every node in this process
// on the in-process network and memory storage: the cost of raftkit itself, without disks or
// sockets. Each shape runs up to three times: plain proposals; the same through one client
// session (exactly-once, docs/sessions.md), so the price of sessions reads off side by side; and,
// where the commands in flight are a multiple of 64, the same commands through `proposeBatch`, 64
// per call, so the price of one promise per command reads off too. Prints a table and writes
// bench/results/node-throughput.json. `npm run bench` runs the plain and batched shapes beside the
// core alone and the peers.
//
//   node --conditions=raftkit-source --import tsx bench/node-throughput.ts [--seconds 5]
//     [--in-flight 1,64,1024] [--plain | --batched]
//
// `--in-flight` runs only the listed shapes, `--plain` only the plain rows and `--batched` only
// the batched ones, so one shape can be run alone under a profiler.
import { mkdirSync, writeFileSync } from 'node:fs';
import { batchCommands, measureNodes, type InProcessRow } from './lib/in-process.js';

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
type Kind = 'plain' | 'session' | 'batched';
const kinds: readonly Kind[] = process.argv.includes('--plain')
  ? ['plain']
  : process.argv.includes('--batched')
    ? ['batched']
    : ['plain', 'session', 'batched'];
const results: (InProcessRow & { readonly cpuMicrosPerProposal: number })[] = [];
for (const inFlight of inFlightShapes) {
  for (const kind of kinds) {
    if (kind === 'batched' && inFlight % batchCommands !== 0) continue;
    // CPU time of the whole process (every thread, the collector's too) per proposal: on a shared
    // machine it moves less than the wall-clock rate does. Start and election are included.
    const cpuBefore = process.cpuUsage();
    const result = await measureNodes(inFlight, seconds, {
      session: kind === 'session',
      batch: kind === 'batched' ? batchCommands : 1,
    });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMicrosPerProposal = Number(((cpu.user + cpu.system) / result.proposals).toFixed(2));
    results.push({ ...result, cpuMicrosPerProposal });
    console.log(
      `3 nodes, ${String(inFlight).padStart(4)} in flight, ${kind.padEnd(8)}: ${String(result.proposalsPerSecond).padStart(8)} proposals/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  CPU ${cpuMicrosPerProposal} µs/proposal`,
    );
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/node-throughput.json', JSON.stringify(results, null, 2));
