import { parseArgs } from 'node:util';
import { formatSimReport, runSimulation, simRunDefaults } from './run-simulation.js';
import { SimSummary } from './sim-summary.js';

/** Seeds a single invocation may run; split larger runs into batches with `--first`. */
const seedsMax = 10_000_000;
/** Progress bar width in characters. */
const barWidth = 30;

const usage = `usage: npm run sim -- [--seeds N] [--first S] [--seed S] [--steps M] [--verbose]
  --seeds N   run N seeds (default 100), starting at --first (default 1)
  --seed S    run only seed S and print its trace (replays a failure)
  --steps M   at most M steps per seed (default ${simRunDefaults.stepsMax})
  --trace R   trace rows printed for a failed seed (default ${simRunDefaults.traceRows})
  --json      print the summary as JSON on stdout`;

function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0 || value > seedsMax * 1000) {
    throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  }
  return value;
}

function progress(done: number, total: number, failures: number): void {
  if (
    !process.stderr.isTTY &&
    done !== total &&
    done % Math.max(1, Math.floor(total / 100)) !== 0
  ) {
    return;
  }
  const filled = total === 0 ? barWidth : Math.round((done / total) * barWidth);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}`;
  const line = `[${bar}] ${done}/${total} seeds, ${failures} failed`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      first: { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      trace: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const single = values.seed === undefined ? null : parseCount('seed', values.seed, 1);
  const first = single ?? parseCount('first', values.first, 1);
  const count = single === null ? Math.min(parseCount('seeds', values.seeds, 100), seedsMax) : 1;
  const stepsMax = parseCount('steps', values.steps, simRunDefaults.stepsMax);
  const traceRows = parseCount('trace', values.trace, simRunDefaults.traceRows);
  const summary = new SimSummary();
  const started = performance.now();
  for (let seed = first; seed < first + count; seed++) {
    const result = await runSimulation({ seed, stepsMax });
    summary.add(result);
    if (result.failed || single !== null) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`${formatSimReport(result, traceRows)}\n\n`);
    }
    progress(seed - first + 1, count, summary.failedSeeds.length);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const wallMs = performance.now() - started;
  process.stdout.write(
    values.json === true
      ? `${JSON.stringify(summary.toJson(wallMs))}\n`
      : `${summary.format(wallMs)}\n`,
  );
  return summary.failedSeeds.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
    process.exitCode = 2;
  },
);
