import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftError } from '../../../src/index.js';
import { KvMetrics } from '../metrics/kv-metrics.js';
import { respRequestDefaults } from '../resp/resp-request-parser.js';
import { ClientRegistry } from './client-registry.js';
import { KvServer } from './kv-server.js';
import { connectionDefaults, type ServerContext } from './server-context.js';

const servers: KvServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await server.stop();
});

/**
 * A server whose node is still starting until `finish` settles it; its reads answer `$1\r\nv`.
 * Only what a connection touches before and after the start is provided.
 */
async function startingServer() {
  let settle: { resolve: () => void; reject: (error: unknown) => void } | null = null;
  let starting: Promise<void> | null = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  starting.catch(() => undefined);
  const reads: string[] = [];
  const context = {
    metrics: new KvMetrics(),
    clients: new ClientRegistry(),
    limits: connectionDefaults,
    requestLimits: respRequestDefaults,
    password: null,
    defaultConsistency: 'linearizable',
    executor: {
      read: (operations: readonly Buffer[][]) => {
        reads.push(operations.map((args) => args.join(' ')).join(';'));
        return Promise.resolve(Buffer.from('$1\r\nv\r\n'));
      },
    },
    starting: () => starting,
  } as unknown as ServerContext;
  const server = new KvServer({ context });
  servers.push(server);
  await server.listen('127.0.0.1', 0);
  const finish = (error?: unknown) => {
    const current = settle!;
    if (error === undefined) current.resolve();
    else current.reject(error);
    starting = null;
  };
  return { port: server.port, reads, finish };
}

/** A raw client collecting everything the server writes back. */
async function client(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return {
    send: (text: string) => socket.write(text),
    received: () => received,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 400 && !condition(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a KV server whose node is still starting', () => {
  it('answers PING at once and holds a read until the node has started', async () => {
    const server = await startingServer();
    const redis = await client(server.port);
    redis.send('PING\r\nGET k\r\n');
    await until(() => redis.received() !== '');
    expect(redis.received()).toBe('+PONG\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.reads).toEqual([]);
    server.finish();
    await until(() => redis.received().length > '+PONG\r\n'.length);
    expect(redis.received()).toBe('+PONG\r\n$1\r\nv\r\n');
    expect(server.reads).toEqual(['GET k']);
  });

  it("answers a held command with the start's error when the node cannot start", async () => {
    const server = await startingServer();
    const redis = await client(server.port);
    redis.send('GET k\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.finish(new RaftError('CORRUPT_STORAGE', 'state file is damaged'));
    await until(() => redis.received() !== '');
    expect(redis.received()).toMatch(/^-\S+ .*state file is damaged/);
    expect(server.reads).toEqual([]);
  });
});
