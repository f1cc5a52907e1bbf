// Requests per second of the key-value showcase: a local 3-process cluster (FileStorage with
// fsync, TCP between servers) driven by redis-benchmark — SET, GET, INCR, HSET, SADD, MSET, the
// key commands (EXPIRE, SCAN) and the hash and set reads (HGET, SISMEMBER) — without and with
// pipelining (-P 16), against the leader and against a follower (writes forwarded, reads by
// ReadIndex), and in the same run against a local redis-server with `appendfsync always` (every
// write fsynced before its reply, the durability an acknowledged raftkit write has on a
// majority). Prints a table and writes bench/results/kv.json, with the load average at the start
// and the end: the machine is shared, so figures are only comparable within one run.
//
//   npm run bench:kv -- [--requests 10000] [--clients 50] [--no-redis] [--no-follower]
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster, freePortLayout } from '../apps/cli/index.js';
import {
  leaderOf,
  redisBenchmark,
  startRedisServer,
  type RedisBenchmarkRow,
} from './lib/kv-tools.js';

type Target = 'leader' | 'follower' | 'redis-server';

interface Row extends RedisBenchmarkRow {
  readonly target: Target;
}

/** redis-benchmark's built-in tests, one per command family the server speaks. */
const builtInTests = 'set,get,incr,hset,sadd,mset';
/** Commands redis-benchmark has no test for, run as custom commands (name, then arguments). */
const customCommands: readonly (readonly string[])[] = [
  ['EXPIRE', 'key:__rand_int__', '100'],
  ['SCAN', '0', 'COUNT', '10'],
  // The read side of the hash and set families, on the keys the HSET and SADD tests wrote.
  ['HGET', 'myhash', 'element:__rand_int__'],
  ['SISMEMBER', 'myset', 'element:__rand_int__'],
];

async function benchmark(options: {
  readonly address: string;
  readonly pipeline: number;
  readonly requests: number;
  readonly clients: number;
}): Promise<Omit<Row, 'target'>[]> {
  const rows: Omit<Row, 'target'>[] = [];
  // One redis-benchmark run per test: it stops at the first error reply (a write that timed out
  // on an overloaded machine), which should cost that row only.
  for (const test of builtInTests.split(',')) {
    rows.push(...(await attempt(options, ['-t', test], test)));
  }
  for (const command of customCommands) {
    // A custom command's requests are fewer: it is there to show the family works at speed.
    const custom = await attempt(
      { ...options, requests: options.requests / 2 },
      command,
      command[0]!,
    );
    rows.push(...custom.map((row) => ({ ...row, test: command[0]! })));
  }
  return rows;
}

async function attempt(
  options: Parameters<typeof redisBenchmark>[0],
  what: readonly string[],
  label: string,
): Promise<Omit<Row, 'target'>[]> {
  try {
    return await redisBenchmark(options, what);
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.split('\n').slice(-2).join(' ') : String(error);
    process.stdout.write(`${label} -P ${options.pipeline} failed: ${reason}\n`);
    return [];
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      clients: { type: 'string', default: '50' },
      'no-redis': { type: 'boolean', default: false },
      'no-follower': { type: 'boolean', default: false },
    },
  });
  const loadAverageAtStart = loadavg();
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-kv-'));
  const cluster = new LocalCluster({ directory, layout: await freePortLayout(3) });
  const rows: Row[] = [];
  let redis: ChildProcess | null = null;
  try {
    await cluster.start();
    const leader = await leaderOf(cluster.layout.members[0]!.client);
    const follower = cluster.layout.members.find((member) => member.id !== leader)!;
    const targets: { target: Target; address: string }[] = [
      { target: 'leader', address: cluster.layout.members.find((m) => m.id === leader)!.client },
    ];
    if (!values['no-follower']) targets.push({ target: 'follower', address: follower.client });
    if (!values['no-redis']) {
      const redisDirectory = join(directory, 'redis');
      mkdirSync(redisDirectory);
      const started = await startRedisServer(redisDirectory);
      redis = started.process;
      targets.push({ target: 'redis-server', address: started.address });
    }
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
            `${target.padEnd(12)}  ${result.test.padEnd(6)}  -P ${String(pipeline).padEnd(2)}  ` +
              `${String(result.requestsPerSecond).padStart(7)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms\n`,
          );
        }
      }
    }
  } finally {
    redis?.kill('SIGTERM');
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
        requests: Number(values.requests),
        cpus: cpus().length,
        loadAverageAtStart,
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
