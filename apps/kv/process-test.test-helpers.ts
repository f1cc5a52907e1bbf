import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { LocalCluster, freePortLayout } from '../cli/local-cluster.js';
import { splitHostPort } from './cluster-layout.js';

/** Starts a 3-process cluster in a new temporary directory, every server with `serverArgs`. */
export async function startProcessCluster(
  prefix: string,
  serverArgs: readonly string[],
): Promise<LocalCluster> {
  const cluster = new LocalCluster({
    directory: mkdtempSync(join(tmpdir(), prefix)),
    layout: await freePortLayout(3),
    serverArgs,
  });
  await cluster.start();
  return cluster;
}

/** Disconnects the test's clients, stops the cluster and removes its directory. */
export async function stopProcessCluster(
  cluster: LocalCluster | null,
  clients: readonly Redis[],
): Promise<void> {
  for (const client of clients) client.disconnect();
  if (cluster === null) return;
  await cluster.stop();
  rmSync(cluster.directory, { recursive: true, force: true });
}

/**
 * Polls `probe` until it returns something other than `null` (a throw counts as `null`), for at
 * most `timeoutMs`. Real-process tests wait with this rather than sleep: generous bounds, no
 * assertion on how long it took.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A client that connects when asked and never reconnects or queues: a command to a dead server
 * fails at once, so a test knows exactly which writes a server acknowledged.
 */
export function strictRedis(address: string, options: { readonly password?: string } = {}): Redis {
  const { host, port } = splitHostPort(address);
  const client = new Redis({
    host,
    port,
    ...options,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  return client;
}
