import { RaftError } from 'raftkit';
import { chaosUsage, parseChaosOptions, type ChaosOptions } from './chaos-options.js';
import { formatReport } from './format-report.js';
import { runChaos } from './run-chaos.js';

/** Exit codes: the verdict, or that the harness itself could not run. */
const exitCodes = { pass: 0, fail: 1, unknown: 2, harnessError: 3 } as const;

/**
 * `npm run chaos -- --duration SECONDS --seed N --out DIR`: a real key-value cluster under faults
 * chosen by the seed, with a linearizability verdict.
 */
async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseChaosOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(
      `${error instanceof Error ? error.message : String(error)}\n${chaosUsage}\n`,
    );
    return exitCodes.harnessError;
  }
  const log = (line: string): void => void process.stdout.write(`chaos: ${line}\n`);
  log(
    `seed ${options.seed}, ${options.durationS} s, faults ${options.faults.join(',')}, read modes ${options.readModes.join(',')}`,
  );
  const report = await runChaos(options, log);
  process.stdout.write(`${formatReport(report, options)}\n`);
  return exitCodes[report.verdict];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const cause =
      error instanceof RaftError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`chaos: the run could not complete: ${cause}\n`);
    process.exit(exitCodes.harnessError);
  },
);
