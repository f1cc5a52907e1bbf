import { parseArgs } from 'node:util';
import type { ReadConsistency } from 'raftkit';
import { readClusterLayout } from './cluster-layout.js';
import { startKvNode } from './kv-node.js';

/** How often a server started with `--exit-with-parent` checks that its launcher lives. */
const parentCheckIntervalMs = 1000;

/**
 * One key-value server process:
 * `node --conditions=raftkit-source --import tsx apps/kv/main.ts --id n1 --layout data/cluster.json --dir data/n1`
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      id: { type: 'string' },
      layout: { type: 'string' },
      dir: { type: 'string' },
      consistency: { type: 'string', default: 'linearizable' },
      'tick-ms': { type: 'string', default: '100' },
      'exit-with-parent': { type: 'boolean', default: false },
      'fault-injection': { type: 'boolean', default: false },
    },
  });
  if (values.id === undefined || values.layout === undefined || values.dir === undefined) {
    throw new Error('usage: main.ts --id <id> --layout <cluster.json> --dir <data directory>');
  }
  const consistency = values.consistency as ReadConsistency;
  if (!['linearizable', 'lease', 'stale'].includes(consistency)) {
    throw new Error('--consistency must be linearizable, lease or stale');
  }
  const handle = await startKvNode({
    id: values.id,
    layout: readClusterLayout(values.layout),
    directory: values.dir,
    consistency,
    tickMs: Number(values['tick-ms']),
    faultInjection: values['fault-injection'],
  });
  process.stdout.write(`${values.id} ready\n`);
  let stopping = false;
  let exitCode = 0;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    handle.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        process.stderr.write(`${values.id}: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (values['exit-with-parent']) {
    // A launcher that dies without stopping us (SIGKILL) must not leave a server behind: once
    // this process is re-parented, its launcher is gone.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop();
    }, parentCheckIntervalMs).unref();
  }
  handle.node.on('error', ({ error, fatal }) => {
    process.stderr.write(`${values.id}: ${fatal ? 'fatal ' : ''}${error.code} ${error.message}\n`);
    if (!fatal) return;
    exitCode = 1;
    stop();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
