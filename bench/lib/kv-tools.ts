// Pieces shared by the benchmarks that drive the key-value server: finding the leader, running
// redis-benchmark, starting a local redis-server with every write fsynced, reading a server's
// counters.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { freePortLayout } from '../../apps/cli/index.js';
import { sendOnce, splitHostPort } from '../../apps/kv/index.js';
import { sleep } from './stats.js';

const run = promisify(execFile);

/** One line of redis-benchmark's CSV output. */
export interface RedisBenchmarkRow {
  readonly test: string;
  readonly pipeline: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Asks `address` who leads, until it knows (bounded: about 10 s). */
export async function leaderOf(address: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const reply = await sendOnce(address, ['RAFT', 'LEADER'], 1000).catch(() => null);
    if (reply?.type === 'array' && reply.value?.[0]?.type === 'bulk' && reply.value[0].value) {
      return reply.value[0].value.toString();
    }
    await sleep(100);
  }
  throw new Error('no leader elected');
}

/**
 * Runs redis-benchmark against `address` with `what` (`['-t', 'set']` or a custom command) and
 * returns its CSV rows. `valueBytes` sets `-d`, the size of SET's value.
 */
export async function redisBenchmark(
  options: {
    readonly address: string;
    readonly pipeline: number;
    readonly requests: number;
    readonly clients: number;
    readonly valueBytes?: number;
  },
  what: readonly string[],
): Promise<RedisBenchmarkRow[]> {
  const { host, port } = splitHostPort(options.address);
  const { stdout } = await run(
    'redis-benchmark',
    [
      ...['-h', host, '-p', String(port), '--csv'],
      ...['-n', String(Math.round(options.requests)), '-c', String(options.clients)],
      ...['-P', String(options.pipeline), '-r', '100000'],
      ...(options.valueBytes === undefined ? [] : ['-d', String(options.valueBytes)]),
      ...what,
    ],
    { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
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

/** Starts a local redis-server that fsyncs every write before answering, in `directory`. */
export async function startRedisServer(
  directory: string,
): Promise<{ address: string; process: ChildProcess }> {
  const port = splitHostPort((await freePortLayout(1)).members[0]!.client).port;
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', directory],
      ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
    ],
    { stdio: 'ignore' },
  );
  const address = `127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const reply = await sendOnce(address, ['PING'], 500).catch(() => null);
    if (reply !== null) return { address, process: child };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** A server's runtime counters, from its HTTP `/status` document. */
export async function serverCounters(httpAddress: string): Promise<Record<string, number>> {
  const response = await fetch(`http://${httpAddress}/status`, {
    signal: AbortSignal.timeout(5000),
  });
  const status = (await response.json()) as { counters?: Record<string, number> };
  if (status.counters === undefined) throw new Error(`${httpAddress}/status has no counters`);
  return status.counters;
}

/** Whether `command` can be run here (it is on the PATH). */
export async function installed(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
