// Synced append throughput of the durable storages, next to the disk's own write+fdatasync rate
// measured in the same run, at batch sizes 1, 16 and 256.
//
//   node --conditions=raftkit-source --import tsx bench/storage.ts [secondsPerCase] [rounds] [directory]
//
// Each case saves batches of 128-byte commands plus a hard state (as the runtime does when the
// commit index moves) for a fixed time and reports saves/s, entries/s and save latency, as the
// median over several interleaved rounds. The raw case writes the same number of bytes per
// iteration with one fdatasync, which is the ceiling for any storage that syncs once per batch.
// Prints a table and writes bench/results/storage.json.
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapSnapshot, configurationOf, type Entry, type LogStorage } from 'raftkit';
import { FileStorage } from 'raftkit/storage/file';
import { SqliteStorage } from 'raftkit/storage/sqlite';

const batchSizes = [1, 16, 256] as const;
const commandBytes = 128;
/** Bytes a FileStorage record of one such command takes: frame, type, entry header, length. */
const recordBytes = 8 + 1 + 17 + 4 + commandBytes;
/** Saves before timing starts, so file creation and JIT warm-up are not measured. */
const warmupSaves = 20;
/** Upper bound on saves per case, so a very fast disk cannot make a case run unbounded. */
const savesPerCaseMax = 1_000_000;

const secondsPerCase = Number(process.argv[2] ?? 1);
const rounds = Number(process.argv[3] ?? 5);
const baseDirectory = process.argv[4] ?? tmpdir();
if (!(secondsPerCase > 0) || !Number.isSafeInteger(rounds) || rounds <= 0) {
  throw new Error('usage: storage.ts [secondsPerCase] [rounds] [directory]');
}

interface CaseResult {
  readonly storage: string;
  readonly batchEntries: number;
  readonly saves: number;
  readonly seconds: number;
  readonly savesPerSecond: number;
  readonly entriesPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;
}

function summarize(
  storage: string,
  batchEntries: number,
  latenciesMs: number[],
  elapsedMs: number,
): CaseResult {
  const seconds = elapsedMs / 1000;
  const sorted = latenciesMs.sort((left, right) => left - right);
  const saves = sorted.length;
  return {
    storage,
    batchEntries,
    saves,
    seconds: Number(seconds.toFixed(2)),
    savesPerSecond: Math.round(saves / seconds),
    entriesPerSecond: Math.round((saves * batchEntries) / seconds),
    megabytesPerSecond: Number(((saves * batchEntries * recordBytes) / seconds / 1e6).toFixed(2)),
    latencyP50Ms: Number(percentile(sorted, 0.5).toFixed(3)),
    latencyP99Ms: Number(percentile(sorted, 0.99).toFixed(3)),
  };
}

/** Runs `step` repeatedly for the case's time and returns each call's latency. */
async function timed(
  step: () => Promise<void> | void,
): Promise<{ latenciesMs: number[]; elapsedMs: number }> {
  for (let warmup = 0; warmup < warmupSaves; warmup++) await step();
  const latenciesMs: number[] = [];
  const startMs = performance.now();
  const deadlineMs = startMs + secondsPerCase * 1000;
  let nowMs = startMs;
  while (nowMs < deadlineMs && latenciesMs.length < savesPerCaseMax) {
    const beforeMs = nowMs;
    await step();
    nowMs = performance.now();
    latenciesMs.push(nowMs - beforeMs);
  }
  return { latenciesMs, elapsedMs: nowMs - startMs };
}

async function benchmarkStorage(
  name: string,
  create: (directory: string) => LogStorage,
  batchEntries: number,
): Promise<CaseResult> {
  const directory = mkdtempSync(join(baseDirectory, `raftkit-bench-${name.toLowerCase()}-`));
  const storage = create(directory);
  try {
    await storage.open();
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['bench'])), {
      term: 1,
      vote: 'bench',
      commit: 0,
    });
    const data = new Uint8Array(commandBytes).fill(7);
    let lastIndex = 0;
    const { latenciesMs, elapsedMs } = await timed(async () => {
      const entries: Entry[] = [];
      for (let offset = 1; offset <= batchEntries; offset++) {
        entries.push({ kind: 'command', index: lastIndex + offset, term: 1, data });
      }
      await storage.save({ entries, hardState: { term: 1, vote: 'bench', commit: lastIndex } });
      lastIndex += batchEntries;
    });
    return summarize(name, batchEntries, latenciesMs, elapsedMs);
  } finally {
    await storage.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function benchmarkRaw(batchEntries: number): Promise<CaseResult> {
  const directory = mkdtempSync(join(baseDirectory, 'raftkit-bench-raw-'));
  const descriptor = openSync(join(directory, 'raw.log'), 'w');
  const bytes = new Uint8Array(batchEntries * recordBytes).fill(7);
  try {
    const { latenciesMs, elapsedMs } = await timed(() => {
      writeSync(descriptor, bytes);
      fdatasyncSync(descriptor);
    });
    return summarize('raw write+fdatasync', batchEntries, latenciesMs, elapsedMs);
  } finally {
    closeSync(descriptor);
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The cases of one round, in the order they run. */
function roundCases(): { name: string; batchEntries: number; run: () => Promise<CaseResult> }[] {
  return batchSizes.flatMap((batchEntries) => [
    { name: 'raw write+fdatasync', batchEntries, run: () => benchmarkRaw(batchEntries) },
    {
      name: 'FileStorage',
      batchEntries,
      run: () =>
        benchmarkStorage(
          'FileStorage',
          (directory) => new FileStorage({ directory }),
          batchEntries,
        ),
    },
    {
      name: 'SqliteStorage',
      batchEntries,
      run: () =>
        benchmarkStorage(
          'SqliteStorage',
          (directory) => new SqliteStorage({ path: join(directory, 'raft.db') }),
          batchEntries,
        ),
    },
  ]);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

// Rounds interleave the cases so a burst of load from elsewhere on the machine hits all of them
// alike; each figure reported is the median over the rounds.
const runs = new Map<string, CaseResult[]>();
for (let round = 0; round < rounds; round++) {
  const cases = roundCases();
  // Rotate the order each round so no case always runs right after the same neighbour.
  const rotated = [...cases.slice(round % cases.length), ...cases.slice(0, round % cases.length)];
  for (const testCase of rotated) {
    const key = `${testCase.name}|${testCase.batchEntries}`;
    runs.set(key, [...(runs.get(key) ?? []), await testCase.run()]);
  }
}
const results = roundCases().map(({ name, batchEntries }) => {
  const caseRuns = runs.get(`${name}|${batchEntries}`) ?? [];
  return {
    storage: name,
    batchEntries,
    savesPerSecond: median(caseRuns.map((run) => run.savesPerSecond)),
    entriesPerSecond: median(caseRuns.map((run) => run.entriesPerSecond)),
    megabytesPerSecond: median(caseRuns.map((run) => run.megabytesPerSecond)),
    latencyP50Ms: median(caseRuns.map((run) => run.latencyP50Ms)),
    latencyP99Ms: median(caseRuns.map((run) => run.latencyP99Ms)),
  };
});

console.log(
  `storage benchmark: medians of ${rounds} rounds of ${secondsPerCase}s per case, ` +
    `${commandBytes}-byte commands, in ${baseDirectory}`,
);
console.table(results);

mkdirSync('bench/results', { recursive: true });
const file = 'bench/results/storage.json';
const report = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  directory: baseDirectory,
  secondsPerCase,
  rounds,
  commandBytes,
  results,
  runs: Object.fromEntries(runs),
};
writeFileSync(file, JSON.stringify(report, null, 2));
console.log(`wrote ${file}`);
