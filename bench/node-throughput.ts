// Proposals per second that a 3-node cluster commits and applies, with every node in this process
// on the in-process network and memory storage: the cost of raftkit itself, without disks or
// sockets. Prints a table and writes bench/results/node-throughput.json.
//
//   node --conditions=raftkit-source --import tsx bench/node-throughput.ts [--seconds 5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { RaftNode, type StateMachine } from 'raftkit';
import { MemoryStorage } from 'raftkit/storage/memory';
import { InProcessNetwork } from 'raftkit/transport/in-process';

class Counter implements StateMachine<number> {
  total = 0;
  apply(): number {
    return ++this.total;
  }
}

interface Result {
  readonly nodes: number;
  readonly inFlight: number;
  readonly seconds: number;
  readonly proposals: number;
  readonly proposalsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function measure(nodeCount: number, inFlight: number, seconds: number): Promise<Result> {
  const network = new InProcessNetwork();
  const ids = Array.from({ length: nodeCount }, (_, position) => `n${position + 1}`);
  const nodes = ids.map(
    (id) =>
      new RaftNode({
        id,
        storage: new MemoryStorage(),
        transport: network.transport(),
        stateMachine: new Counter(),
        initialConfiguration: ids,
        tickMs: 50,
      }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  await Promise.all(nodes.map((node) => node.waitForLeader()));
  const leader = nodes.find((node) => node.role === 'leader');
  if (leader === undefined) throw new Error('no leader elected');
  const command = new TextEncoder().encode('increment');
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      await leader.propose(command);
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(nodes.map((node) => node.stop()));
  latencies.sort((a, b) => a - b);
  return {
    nodes: nodeCount,
    inFlight,
    seconds: Number(elapsed.toFixed(2)),
    proposals: latencies.length,
    proposalsPerSecond: Math.round(latencies.length / elapsed),
    latencyP50Ms: Number(percentile(latencies, 0.5).toFixed(3)),
    latencyP99Ms: Number(percentile(latencies, 0.99).toFixed(3)),
  };
}

const secondsFlag = process.argv.indexOf('--seconds');
const seconds = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 3;
const results: Result[] = [];
for (const inFlight of [1, 64, 1024]) {
  const result = await measure(3, inFlight, seconds);
  results.push(result);
  console.log(
    `3 nodes, ${String(inFlight).padStart(4)} in flight: ${String(result.proposalsPerSecond).padStart(8)} proposals/s  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms`,
  );
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/node-throughput.json', JSON.stringify(results, null, 2));
