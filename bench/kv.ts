// Requests per second of the key-value showcase: a local 3-process cluster (FileStorage with
// fsync, TCP between servers) driven by redis-benchmark, SET and GET, without and with
// pipelining (-P 16), against the leader and against a follower (writes forwarded, reads by
// ReadIndex). Prints a table and writes bench/results/kv.json.
//
//   npm run bench:kv -- [--requests 20000] [--clients 50]
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { LocalCluster, freePortLayout } from '../apps/cli/local-cluster.js';
import { splitHostPort } from '../apps/kv/cluster-layout.js';
import { sendOnce } from '../apps/kv/resp/resp-client.js';

const run = promisify(execFile);

interface Row {
  readonly target: 'leader' | 'follower';
  readonly test: string;
  readonly pipeline: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function leaderOf(address: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const reply = await sendOnce(address, ['RAFT', 'LEADER'], 1000).catch(() => null);
    if (reply?.type === 'array' && reply.value?.[0]?.type === 'bulk' && reply.value[0].value) {
      return reply.value[0].value.toString();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no leader elected');
}

async function benchmark(options: {
  readonly address: string;
  readonly pipeline: number;
  readonly requests: number;
  readonly clients: number;
}): Promise<Omit<Row, 'target'>[]> {
  const { host, port } = splitHostPort(options.address);
  const { stdout } = await run(
    'redis-benchmark',
    [
      ...['-h', host, '-p', String(port), '-t', 'set,get', '--csv'],
      ...['-n', String(options.requests), '-c', String(options.clients)],
      ...['-P', String(options.pipeline), '-r', '100000'],
    ],
    { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
  );
  // CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  return stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map((cell) => cell.replaceAll('"', '')))
    .map((cells) => ({
      test: cells[0]!,
      pipeline: options.pipeline,
      requestsPerSecond: Math.round(Number(cells[1])),
      p50Ms: Number(cells[4]),
      p99Ms: Number(cells[6]),
    }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '20000' },
      clients: { type: 'string', default: '50' },
    },
  });
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-kv-'));
  const cluster = new LocalCluster({ directory, layout: await freePortLayout(3) });
  const rows: Row[] = [];
  try {
    await cluster.start();
    const leader = await leaderOf(cluster.layout.members[0]!.client);
    const follower = cluster.layout.members.find((member) => member.id !== leader)!;
    const targets = [
      {
        target: 'leader' as const,
        address: cluster.layout.members.find((m) => m.id === leader)!.client,
      },
      { target: 'follower' as const, address: follower.client },
    ];
    for (const { target, address } of targets) {
      for (const pipeline of [1, 16]) {
        const requests = Number(values.requests) * (pipeline === 1 ? 1 : 5);
        const results = await benchmark({
          address,
          pipeline,
          requests,
          clients: Number(values.clients),
        });
        for (const result of results) {
          rows.push({ target, ...result });
          process.stdout.write(
            `${target.padEnd(8)}  ${result.test.padEnd(3)}  -P ${String(pipeline).padEnd(2)}  ` +
              `${String(result.requestsPerSecond).padStart(7)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms\n`,
          );
        }
      }
    }
  } finally {
    await cluster.stop();
    rmSync(directory, { recursive: true, force: true });
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/kv.json',
    JSON.stringify(
      {
        date: new Date().toISOString(),
        clients: Number(values.clients),
        cpus: cpus().length,
        loadAverage: loadavg(),
        rows,
      },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write('wrote bench/results/kv.json\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
