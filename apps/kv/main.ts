#!/usr/bin/env node
import { createStreamLogger, describeError, type Logger } from 'raftkit';
import { startKvNode } from './kv-node.js';
import {
  FlagError,
  formatServerFlags,
  readFlags,
  serverConfig,
  type ServerConfig,
} from './server-flags.js';

/** How often a server started with `--exit-with-parent` checks that its launcher lives. */
const parentCheckIntervalMs = 1000;

/**
 * One key-value server process. Every flag may also come from the environment
 * (`--raft-port` ↔ `RAFTKIT_RAFT_PORT`); `--help` lists them.
 *
 * ```sh
 * raftkit-kv --id n1 --layout data/cluster.json --dir data/n1
 * RAFTKIT_ID=kv-0 RAFTKIT_MEMBERS=kv-0,kv-1,kv-2 RAFTKIT_SECRET_FILE=/run/secret raftkit-kv --dir /data
 * ```
 */
async function main(): Promise<void> {
  const values = readFlags(process.argv.slice(2), process.env);
  if (values.help === true) {
    process.stdout.write(formatServerFlags() + '\n');
    return;
  }
  const config = serverConfig(values);
  const logger = createStreamLogger({
    format: config.logFormat,
    level: config.logLevel,
    write: (line) => process.stderr.write(line),
    bindings: { nodeId: config.id },
  });
  await run(config, logger);
}

async function run(config: ServerConfig, logger: Logger): Promise<void> {
  const handle = await startKvNode({
    id: config.id,
    layout: config.layout,
    ...(config.layoutFile === null ? {} : { layoutFile: config.layoutFile }),
    start: config.join ? 'join' : 'bootstrap',
    directory: config.directory,
    consistency: config.consistency,
    tickMs: config.tickMs,
    snapshots: config.snapshots,
    bind: config.bind,
    discovery: config.discovery,
    logger,
    faultInjection: config.faultInjection,
    ...(config.password === null ? {} : { password: config.password }),
    connectionLimits: {
      connectionsMax: config.connectionsMax,
      idleTimeoutMs: config.idleTimeoutMs,
    },
    requestLimits: { requestBytesMax: config.requestBytesMax },
    ...(config.secret === null ? {} : { secret: config.secret }),
    ...(config.tls === null ? {} : { tls: config.tls }),
  });
  logger.info(
    {
      raft: config.bind.raft,
      client: config.bind.client,
      http: config.bind.http,
      authentication:
        config.tls !== null ? 'mutual TLS' : config.secret !== null ? 'secret' : 'none',
    },
    'listening',
  );
  // The launcher of a local cluster waits for exactly this line on standard output.
  process.stdout.write(`${config.id} ready\n`);
  let stopping = false;
  let exitCode = 0;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    handle.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        logger.error({ error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (config.exitWithParent) {
    // A launcher that dies without stopping us (SIGKILL) must not leave a server behind: once
    // this process is re-parented, its launcher is gone.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop();
    }, parentCheckIntervalMs).unref();
  }
  handle.node.on('error', ({ fatal }) => {
    // The node's own log line (with the cause) is written by the logger; stop on a fatal one.
    if (!fatal) return;
    exitCode = 1;
    stop();
  });
}

main().catch((error: unknown) => {
  if (error instanceof FlagError) {
    process.stderr.write(`${error.message}\n\n${formatServerFlags()}\n`);
    process.exit(2);
  }
  // Before the logger exists, or a start that failed: say why, with the cause chain.
  process.stderr.write(`cannot start: ${explain(describeError(error))}\n`);
  process.exit(1);
});

/** `message [CODE]: cause…` from a described error. */
function explain(described: unknown): string {
  if (typeof described !== 'object' || described === null) return String(described);
  const { message, code, cause } = described as {
    message?: string;
    code?: string | number;
    cause?: unknown;
  };
  const head = `${message ?? 'unknown error'}${code === undefined ? '' : ` [${code}]`}`;
  return cause === undefined ? head : `${head}: ${explain(cause)}`;
}
