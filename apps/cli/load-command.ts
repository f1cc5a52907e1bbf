import { WriteLoad } from '../dashboard/write-load.js';
import type { KnownMember } from './cluster-client.js';

/** Seconds one `raftkit load` may run; a longer soak belongs to the benchmarks. */
export const loadSecondsMax = 3600;

/**
 * `raftkit load`: the dashboard's write load from the command line. Prints one line a second with
 * acknowledged and failed writes and the latency percentiles, then a total.
 */
export async function runLoad(options: {
  readonly members: readonly KnownMember[];
  readonly seconds: number;
  readonly clients: number;
  readonly print: (line: string) => void;
}): Promise<void> {
  if (
    !Number.isSafeInteger(options.seconds) ||
    options.seconds <= 0 ||
    options.seconds > loadSecondsMax
  ) {
    throw new Error(`--seconds must be a whole number from 1 to ${loadSecondsMax}`);
  }
  const load = new WriteLoad({
    servers: options.members.map((member) => member.client),
    clients: options.clients,
  });
  let ok = 0;
  let failed = 0;
  load.start();
  try {
    for (let second = 1; second <= options.seconds; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const sample = load.sample(Date.now());
      ok += sample.ok;
      failed += sample.failed;
      const latency =
        sample.p50Ms === null
          ? ''
          : `  p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms!.toFixed(2)} ms`;
      options.print(`${second}s  ${sample.ok} writes/s  ${sample.failed} failed${latency}`);
    }
  } finally {
    await load.stop();
  }
  options.print(`total: ${ok} writes acknowledged, ${failed} failed, in ${options.seconds} s`);
}
