import { Redis } from 'ioredis';
import { splitHostPort } from './cluster-layout.js';

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
export function strictRedis(address: string): Redis {
  const { host, port } = splitHostPort(address);
  const client = new Redis({
    host,
    port,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  return client;
}
