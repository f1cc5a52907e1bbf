// `npm run bench`: every headline figure in one run on one machine, side by side with the peers
// and the machine's own limits, so ratios compare like with like on a shared machine.
//
//   npm run bench -- [--quick] [--only limits,in-process,durable,peers,failover] [--write-docs]
//
// Sections: (1) in process, 3 servers with memory storage, through RaftNode (one `propose` per
// command, and 64 commands per `proposeBatch`) and through the core alone; (2) durable, 3 apps/kv processes with FileStorage, SET of 100-byte values from
// redis-benchmark; (3) failover, SIGKILL of the leader under load; (4) peers, a 3-member etcd and
// a redis-server with appendfsync always, each skipped (with the command that installs it) when
// absent; (5) limits, write+fdatasync, TCP ping-pong and a replicated write in plain Node (three
// processes doing only what any replicated write must, without Raft). Prints tables, writes
// bench/results/bench.json and bench/results/bench.svg; `--write-docs` also refreshes the latest
// figures in docs/benchmarks.md and docs/benchmarks.svg.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { renderChart, type ChartPanel } from './lib/chart.js';
import {
  DurableCluster,
  measureDurable,
  measureFailover,
  valueBytes,
  type DurableRow,
  type FailoverResult,
} from './lib/durable.js';
import { EtcdCluster, measureEtcd } from './lib/etcd.js';
import { batchCommands, measureCore, measureNodes, type InProcessRow } from './lib/in-process.js';
import { installed, redisBenchmark, startRedisServer } from './lib/kv-tools.js';
import { measureFsync, measurePingPong, type Limit } from './lib/limits.js';
import { measureReplicatedFloor } from './lib/node-floor.js';
import { describeMachine, ratio, type Machine } from './lib/stats.js';

const sections = ['limits', 'in-process', 'durable', 'peers', 'failover'] as const;
type Section = (typeof sections)[number];
const inFlightShapes = [1, 64, 1024] as const;
const clientCounts = [1, 8, 32, 128] as const;
const installCommand = 'apt-get install -y etcd-server etcd-client redis-server redis-tools';

interface Results {
  machine: Machine;
  date: string;
  quick: boolean;
  limits: Limit[];
  inProcess: InProcessRow[];
  durable: DurableRow[];
  failover: FailoverResult | null;
  skipped: { peer: string; reason: string; install: string }[];
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const chosen = new Set<Section>(
  values.only === undefined
    ? sections
    : values.only.split(',').map((name) => {
        if (!(sections as readonly string[]).includes(name)) {
          throw new Error(`--only takes ${sections.join(',')}; got ${name}`);
        }
        return name as Section;
      }),
);
const inProcessSeconds = quick ? 1 : 3;
const requestsFor = (clients: number): number =>
  quick ? 1000 + clients * 40 : 4000 + clients * 150;

const results: Results = {
  machine: describeMachine(),
  date: new Date().toISOString(),
  quick,
  limits: [],
  inProcess: [],
  durable: [],
  failover: null,
  skipped: [],
};

/** The first column of an in-process row: what drove the three servers. */
function inProcessLabel(entry: InProcessRow): string {
  if (entry.driver === 'RaftCore') return 'core alone (no runtime)';
  if (entry.driver === 'RaftNode, batches') {
    return `RaftNode, ${entry.commandsPerCall} per proposeBatch`;
  }
  return entry.driver;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

type Cell = string | number | null | undefined;

function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cell = (value: Cell): string =>
    value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))
      ? '–'
      : typeof value === 'number'
        ? value.toLocaleString('en-US')
        : String(value);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Whether every tool is installed; if not, records `peer` as skipped with the install command. */
async function available(peer: string, tools: readonly string[]): Promise<boolean> {
  for (const tool of tools) {
    if (await installed(tool)) continue;
    results.skipped.push({ peer, reason: `${tool} is not installed`, install: installCommand });
    return false;
  }
  return true;
}

async function runLimits(): Promise<void> {
  say('limits: write+fdatasync, TCP ping-pong');
  results.limits.push(measureFsync(quick ? 1 : 3));
  results.limits.push(await measurePingPong(quick ? 1 : 3));
  if (!(await available('the plain-Node replicated write', ['redis-benchmark']))) return;
  say('limits: a replicated write in plain Node, 1 client');
  results.limits.push(await measureReplicatedFloor(quick ? 1500 : 4000, valueBytes));
}

async function runInProcess(): Promise<void> {
  for (const inFlight of inFlightShapes) {
    say(`in process: ${inFlight} in flight`);
    results.inProcess.push(measureCore(inFlight, inProcessSeconds));
    results.inProcess.push(await measureNodes(inFlight, inProcessSeconds));
    // The same commands 64 per proposeBatch call, where they divide into whole batches.
    if (inFlight % batchCommands === 0) {
      const batch = batchCommands;
      results.inProcess.push(await measureNodes(inFlight, inProcessSeconds, { batch }));
    }
  }
}

async function runDurable(withFailover: boolean): Promise<void> {
  const durable = await DurableCluster.start();
  try {
    if (chosen.has('durable')) {
      for (const clients of clientCounts) {
        say(`durable: raftkit, ${clients} clients`);
        results.durable.push(await measureDurable(durable, clients, requestsFor(clients)));
      }
    }
    if (withFailover) {
      say('failover: SIGKILL of the leader under load');
      results.failover = await measureFailover(durable, quick ? 2 : 5);
    }
  } finally {
    await durable.close();
  }
}

async function runEtcd(): Promise<void> {
  if (!(await available('etcd', ['etcd']))) return;
  const etcd = await EtcdCluster.start();
  try {
    for (const clients of clientCounts) {
      say(`peers: etcd, ${clients} clients`);
      const address = await etcd.leader();
      results.durable.push(
        await measureEtcd({ address, clients, requests: requestsFor(clients), valueBytes }),
      );
    }
  } finally {
    await etcd.close();
  }
}

async function runRedis(): Promise<void> {
  if (!(await available('redis-server', ['redis-server', 'redis-benchmark']))) return;
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-redis-'));
  const redis = await startRedisServer(directory);
  try {
    for (const clients of clientCounts) {
      say(`peers: redis-server appendfsync always, ${clients} clients`);
      const [row] = await redisBenchmark(
        {
          address: redis.address,
          pipeline: 1,
          requests: requestsFor(clients),
          clients,
          valueBytes,
        },
        ['-t', 'set'],
      );
      if (row === undefined) throw new Error('redis-benchmark printed no result');
      results.durable.push({
        target: 'redis (appendfsync always)',
        clients,
        opsPerSecond: row.requestsPerSecond,
        p50Ms: row.p50Ms,
        p99Ms: row.p99Ms,
        entriesPerFsync: null,
      });
    }
  } finally {
    redis.process.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  }
}

function durableRow(target: string, clients: number): DurableRow | undefined {
  return results.durable.find((row) => row.target === target && row.clients === clients);
}

function report(): { markdown: string; chart: string } {
  const { machine } = results;
  const limit = (name: string): Limit | undefined =>
    results.limits.find((entry) => entry.limit.startsWith(name));
  const fsync = limit('write+fdatasync');
  const pingPong = limit('TCP');
  const nodeFloor = limit('replicated write in plain Node');
  const parts: string[] = [
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGigabytes} GB, Node ${machine.node}, ` +
      `${machine.platform}, load average ${machine.loadAverage.join(' / ')} at the start; ${results.date}` +
      (quick ? ' (--quick)' : ''),
  ];
  if (results.limits.length > 0) {
    parts.push(
      table(
        ['machine limit', 'per second', 'p50 ms', 'p99 ms'],
        results.limits.map((entry) => [entry.limit, entry.perSecond, entry.p50Ms, entry.p99Ms]),
      ),
    );
  }
  if (results.inProcess.length > 0) {
    parts.push(
      table(
        [
          'in process, 3 servers',
          'in flight',
          'proposals/s',
          'p50 ms',
          'p99 ms',
          'RaftNode / core alone',
        ],
        results.inProcess.map((entry) => {
          const core = results.inProcess.find(
            (other) => other.driver === 'RaftCore' && other.inFlight === entry.inFlight,
          );
          return [
            inProcessLabel(entry),
            entry.inFlight,
            entry.proposalsPerSecond,
            entry.p50Ms,
            entry.p99Ms,
            entry.driver === 'RaftCore'
              ? null
              : ratio(entry.proposalsPerSecond, core?.proposalsPerSecond),
          ];
        }),
      ),
    );
  }
  if (results.durable.length > 0) {
    const limitP50 =
      fsync !== undefined && pingPong !== undefined ? fsync.p50Ms + pingPong.p50Ms : undefined;
    parts.push(
      table(
        [
          'durable, SET 100 B',
          'clients',
          'ops/s',
          'p50 ms',
          'p99 ms',
          'entries/fsync',
          'ops/s ÷ etcd',
          'ops/s ÷ fsyncs/s',
          'p50 ÷ (RTT + fsync)',
          'p50 ÷ plain Node',
        ],
        results.durable.map((entry) => [
          entry.target,
          entry.clients,
          entry.opsPerSecond,
          entry.p50Ms,
          entry.p99Ms,
          entry.entriesPerFsync,
          entry.target === 'etcd'
            ? null
            : ratio(entry.opsPerSecond, durableRow('etcd', entry.clients)?.opsPerSecond),
          ratio(entry.opsPerSecond, fsync?.perSecond),
          ratio(entry.p50Ms, limitP50),
          entry.clients === 1 ? ratio(entry.p50Ms, nodeFloor?.p50Ms) : null,
        ]),
      ),
    );
  }
  if (results.failover !== null) {
    const failover = results.failover;
    parts.push(
      table(
        ['failover (SIGKILL leader under load)', 'rounds', 'median ms', 'max ms', 'samples ms'],
        [
          [
            'raftkit, 3 apps/kv processes',
            failover.rounds,
            failover.medianMs,
            failover.maxMs,
            failover.samplesMs.join(', '),
          ],
        ],
      ),
    );
  }
  for (const skipped of results.skipped) {
    parts.push(`Skipped ${skipped.peer}: ${skipped.reason}; install with \`${skipped.install}\`.`);
  }
  const panels: ChartPanel[] = [];
  const targets = [...new Set(results.durable.map((entry) => entry.target))];
  if (targets.length > 0) {
    panels.push({
      title: `Durable SET of ${valueBytes} B, 3 servers (redis: 1 server)`,
      unit: 'ops/s',
      categories: clientCounts.map((clients) => `${clients} client${clients === 1 ? '' : 's'}`),
      series: targets.map((target) => ({
        name: target,
        values: clientCounts.map((clients) => durableRow(target, clients)?.opsPerSecond ?? null),
      })),
    });
  }
  if (results.inProcess.length > 0) {
    panels.push({
      title: 'In process, 3 servers, memory storage, 100 B commands',
      unit: 'proposals/s',
      categories: inFlightShapes.map((inFlight) => `${inFlight} in flight`),
      series: (['RaftNode', 'RaftNode, batches', 'RaftCore'] as const).map((driver) => ({
        name:
          driver === 'RaftCore'
            ? 'core alone'
            : driver === 'RaftNode'
              ? 'RaftNode'
              : `RaftNode, ${batchCommands} per proposeBatch`,
        values: inFlightShapes.map(
          (inFlight) =>
            results.inProcess.find(
              (entry) => entry.driver === driver && entry.inFlight === inFlight,
            )?.proposalsPerSecond ?? null,
        ),
      })),
    });
  }
  const caption = `${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage[0]}, ${results.date.slice(0, 16)}`;
  return { markdown: parts.join('\n\n') + '\n', chart: renderChart(panels, caption) };
}

async function writeDocs(markdown: string, chart: string): Promise<void> {
  const file = 'docs/benchmarks.md';
  const document = readFileSync(file, 'utf8');
  const start = '<!-- bench:latest:start -->';
  const end = '<!-- bench:latest:end -->';
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} lacks the ${start} … ${end} markers`);
  const body = `${start}\n\n![latest npm run bench](benchmarks.svg)\n\n${markdown}\n${end}`;
  const updated = document.slice(0, from) + body + document.slice(to + end.length);
  // Formatted as the repository's format check wants, so a refreshed page can be committed as is.
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(updated, { ...options, filepath: file }));
  writeFileSync('docs/benchmarks.svg', chart);
  say(`updated ${file} and docs/benchmarks.svg`);
}

async function main(): Promise<void> {
  say(
    `raftkit bench on ${results.machine.cores} cores, Node ${results.machine.node}${quick ? ' (quick)' : ''}`,
  );
  if (chosen.has('limits')) await runLimits();
  if (chosen.has('in-process')) await runInProcess();
  if (chosen.has('durable') || chosen.has('failover')) await runDurable(chosen.has('failover'));
  if (chosen.has('peers')) {
    await runEtcd();
    await runRedis();
  }
  const { markdown, chart } = report();
  say('');
  say(markdown);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/bench.json', JSON.stringify(results, null, 2) + '\n');
  writeFileSync('bench/results/bench.svg', chart);
  writeFileSync('bench/results/bench.md', markdown);
  say('wrote bench/results/bench.json, bench.svg and bench.md');
  if (values['write-docs']) await writeDocs(markdown, chart);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
