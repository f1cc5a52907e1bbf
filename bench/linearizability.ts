// Times the linearizability checker on the labelled Jepsen key-value histories.
// Run: node --conditions=raftkit-source --import tsx bench/linearizability.ts [testdata directory]
// Prints one line per file and writes bench/results/linearizability.json.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { checkLinearizability, keyValueModel, parseJepsenHistory } from 'raftkit/testing';

/** Timed runs per file; the median is reported because the first run also warms up the JIT. */
const runsPerFile = 5;

interface FileTiming {
  readonly file: string;
  readonly operations: number;
  readonly verdict: string;
  readonly steps: number;
  readonly parseMs: number;
  readonly checkMedianMs: number;
  readonly checkMinMs: number;
  readonly checkMaxMs: number;
  /** Processor time of the median run's check: steadier than wall time on a shared machine. */
  readonly checkCpuMedianMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function timeFile(directory: URL, file: string): FileTiming {
  const text = readFileSync(new URL(file, directory), 'utf8');
  const parseStartMs = performance.now();
  const history = parseJepsenHistory(text);
  const parseMs = performance.now() - parseStartMs;
  const durationsMs: number[] = [];
  const cpuDurationsMs: number[] = [];
  let verdict = '';
  let steps = 0;
  for (let run = 0; run < runsPerFile; run++) {
    const startMs = performance.now();
    const cpuStart = process.cpuUsage();
    const result = checkLinearizability(history, keyValueModel, { timeBudgetMs: 60_000 });
    const cpu = process.cpuUsage(cpuStart);
    durationsMs.push(performance.now() - startMs);
    cpuDurationsMs.push((cpu.user + cpu.system) / 1000);
    verdict = result.result;
    steps = result.steps;
  }
  return {
    file,
    operations: history.length,
    verdict,
    steps,
    parseMs,
    checkMedianMs: median(durationsMs),
    checkMinMs: Math.min(...durationsMs),
    checkMaxMs: Math.max(...durationsMs),
    checkCpuMedianMs: median(cpuDurationsMs),
  };
}

const argument = process.argv[2];
const directory =
  argument === undefined
    ? new URL('../src/testing/linearizability/testdata/', import.meta.url)
    : new URL(`file://${argument.endsWith('/') ? argument : `${argument}/`}`);
const files = readdirSync(directory)
  .filter((name) => name.endsWith('.txt'))
  .sort();
const timings: FileTiming[] = [];
console.log(
  `node ${process.version}, ${runsPerFile} runs per file: median (min..max) wall time, median processor time`,
);
for (const file of files) {
  const timing = timeFile(directory, file);
  timings.push(timing);
  console.log(
    `${timing.file.padEnd(12)} ${String(timing.operations).padStart(5)} operations  ` +
      `${timing.verdict.padEnd(16)} ${String(timing.steps).padStart(8)} steps  ` +
      `parse ${timing.parseMs.toFixed(1).padStart(6)} ms  ` +
      `check ${timing.checkMedianMs.toFixed(1).padStart(7)} ms ` +
      `(${timing.checkMinMs.toFixed(1)}..${timing.checkMaxMs.toFixed(1)})  ` +
      `cpu ${timing.checkCpuMedianMs.toFixed(1)} ms`,
  );
}
const resultsDirectory = new URL('results/', import.meta.url);
mkdirSync(resultsDirectory, { recursive: true });
const report = { node: process.version, runsPerFile, timings };
writeFileSync(
  new URL('linearizability.json', resultsDirectory),
  `${JSON.stringify(report, null, 2)}\n`,
);
