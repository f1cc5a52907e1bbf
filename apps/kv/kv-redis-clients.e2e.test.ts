// Real Redis clients (ioredis, redis-cli) against one in-process server: transactions,
// pipelines, scanStream, hashes and sets, and the connection commands (HELLO, AUTH, CLIENT,
// INFO, CONFIG, WAIT, READONLY) with the limits clients run into.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortLayout } from '../cli/local-cluster.js';
import { splitHostPort } from './cluster-layout.js';
import { startKvNode, type KvNodeHandle } from './kv-node.js';

const run = promisify(execFile);
const password = 'correct horse';
const connectionsMax = 24;
const idleTimeoutMs = 400;
const requestBytesMax = 64 * 1024;

let directory = '';
let server: KvNodeHandle | null = null;
let address = { host: '', port: 0 };
const clients: Redis[] = [];

async function redis(options: { readonly authenticated?: boolean } = {}): Promise<Redis> {
  const client = new Redis({
    ...address,
    ...(options.authenticated === false ? {} : { password }),
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  clients.push(client);
  await client.connect();
  return client;
}

/** Sends raw bytes and collects what comes back until the server closes or `waitMs` passes. */
async function raw(
  bytes: string | Buffer,
  waitMs = 1000,
): Promise<{ text: string; closed: boolean }> {
  const socket = connect(address);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<boolean>((resolve) => socket.on('close', () => resolve(true)));
  socket.write(bytes);
  const result = await Promise.race([
    closed,
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs)),
  ]);
  socket.destroy();
  return { text: Buffer.concat(received).toString(), closed: result };
}

async function redisCli(input: string): Promise<string> {
  const child = run(
    'redis-cli',
    ['-h', address.host, '-p', String(address.port), '--no-auth-warning', '-a', password],
    {
      timeout: 10_000,
    },
  );
  child.child.stdin!.end(input);
  return (await child).stdout.trim();
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'raftkit-kv-clients-'));
  const layout = await freePortLayout(1);
  server = await startKvNode({
    id: 'n1',
    layout,
    directory,
    tickMs: 10,
    password,
    connectionLimits: { connectionsMax, idleTimeoutMs },
    requestLimits: { requestBytesMax },
  });
  address = splitHostPort(layout.members[0]!.client);
  const probe = await redis();
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await probe.set('ready', '1').catch(() => null)) === 'OK') break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
  if (directory !== '') rmSync(directory, { recursive: true, force: true });
});

describe('transactions with ioredis', () => {
  it('multi().set().incr().exec() applies both as one log entry and answers both', async () => {
    const client = await redis();
    const before = server!.node.status().lastIndex;
    expect(await client.multi().set('tx:a', '1').incr('tx:a').get('tx:a').exec()).toEqual([
      [null, 'OK'],
      [null, 2],
      [null, '2'],
    ]);
    expect(server!.node.status().lastIndex - before).toBe(1);
  });

  it('a queue-time error (unknown command, wrong arity) aborts with EXECABORT and applies nothing', async () => {
    const client = await redis();
    await expect(
      client.multi().set('tx:b', '1').call('NOSUCHCOMMAND', 'tx:b').incr('tx:b').exec(),
    ).rejects.toThrow(/EXECABORT/);
    await expect(
      client.multi().set('tx:b', '1').call('INCRBY', 'tx:b').incr('tx:b').exec(),
    ).rejects.toThrow(/EXECABORT/);
    expect(await client.exists('tx:b')).toBe(0);
    // The connection is out of the transaction and usable.
    expect(await client.ping()).toBe('PONG');
  });

  it('a run-time error (WRONGTYPE, a bad argument) is one entry of the reply array; the others run', async () => {
    const client = await redis();
    await client.hset('tx:hash', 'f', 'v');
    const results = await client
      .multi()
      .incr('tx:hash')
      .set('tx:c', 'yes')
      .call('INCRBY', 'tx:c2', 'x')
      .set('tx:d', '1', 'EX', 0)
      .incr('tx:c2')
      .exec();
    expect(results!.map(([error]) => (error === null ? null : String(error)))).toEqual([
      expect.stringMatching(/WRONGTYPE/),
      null,
      expect.stringMatching(/not an integer/),
      expect.stringMatching(/invalid expire time/),
      null,
    ]);
    expect(results![1]).toEqual([null, 'OK']);
    expect(results![4]).toEqual([null, 1]);
  });

  it('answers MULTI nesting, EXEC and DISCARD without MULTI, and WATCH inside MULTI as Redis does', async () => {
    const { text } = await raw(
      `AUTH "${password}"\r\nEXEC\r\nDISCARD\r\nMULTI\r\nMULTI\r\nSET d 1\r\nDISCARD\r\nGET d\r\n` +
        `MULTI\r\nWATCH d\r\nPING\r\nUNWATCH\r\nSET d 2\r\nEXEC\r\nMULTI\r\nINFO\r\nEXEC\r\nPING\r\n`,
      500,
    );
    expect(text.split('\r\n')).toEqual([
      '+OK',
      '-ERR EXEC without MULTI',
      '-ERR DISCARD without MULTI',
      '+OK',
      '-ERR MULTI calls can not be nested',
      '+QUEUED',
      '+OK',
      '$-1',
      '+OK',
      // Refused, but the transaction goes on (Redis 7.0 does the same).
      '-ERR WATCH inside MULTI is not allowed',
      '+QUEUED',
      '+QUEUED',
      '+QUEUED',
      '*3',
      '+PONG',
      '+OK',
      '+OK',
      '+OK',
      // A server command Redis would queue is refused here, and the transaction with it.
      '-ERR Command not allowed inside a transaction',
      '-EXECABORT Transaction discarded because of previous errors.',
      '+PONG',
      '',
    ]);
    const quit = await raw(`AUTH "${password}"\r\nMULTI\r\nSET q 1\r\nQUIT\r\nPING\r\n`, 2000);
    expect(quit).toEqual({ text: '+OK\r\n+OK\r\n+QUEUED\r\n+OK\r\n', closed: true });
  });

  it('redis-cli runs a transaction from its input', async () => {
    const output = await redisCli('MULTI\nSET cli:tx 5\nINCR cli:tx\nEXEC\n');
    expect(output.split('\n')).toEqual(['OK', 'QUEUED', 'QUEUED', 'OK', '6']);
  });
});

describe('data types and key commands with ioredis', () => {
  it('pipelines mixed families in order', async () => {
    const client = await redis();
    const results = await client
      .pipeline()
      .hset('user:1', { name: 'ada', visits: '1' })
      .hincrby('user:1', 'visits', 2)
      .sadd('tags', 'a', 'b')
      .expire('user:1', 100)
      .setex('temp', 50, 'x')
      .getdel('temp')
      .type('tags')
      .exec();
    expect(results!.map(([error, value]) => [error, value])).toEqual([
      [null, 2],
      [null, 3],
      [null, 2],
      [null, 1],
      [null, 'OK'],
      [null, 'x'],
      [null, 'set'],
    ]);
    expect(await client.hgetall('user:1')).toEqual({ name: 'ada', visits: '3' });
    expect((await client.smembers('tags')).sort()).toEqual(['a', 'b']);
    expect(await client.ttl('user:1')).toBeGreaterThan(90);
    await expect(client.get('tags')).rejects.toThrow(/WRONGTYPE/);
  });

  it('scanStream walks every key, a bounded batch per call', async () => {
    const client = await redis();
    const pipeline = client.pipeline();
    for (let n = 0; n < 300; n++) pipeline.set(`scan:${n}`, 'v');
    await pipeline.exec();
    const seen = new Set<string>();
    let batches = 0;
    for await (const keys of client.scanStream({ match: 'scan:*', count: 50 })) {
      batches++;
      for (const key of keys as string[]) seen.add(key);
    }
    expect(seen.size).toBe(300);
    expect(batches).toBeGreaterThan(3);
    expect((await client.keys('scan:1?')).length).toBe(10);
    expect(await client.rename('scan:0', 'scan:zero')).toBe('OK');
    expect(await client.flushall()).toBe('OK');
    expect(await client.dbsize()).toBe(0);
  });
});

describe('connection and server commands', () => {
  it('HELLO answers RESP2 and refuses RESP3 with NOPROTO', async () => {
    const client = await redis();
    const reply = (await client.call('HELLO', '2')) as unknown[];
    expect(reply.slice(0, 6)).toEqual(['server', 'redis', 'version', '7.0.0', 'proto', 2]);
    await expect(client.call('HELLO', '3')).rejects.toThrow(/^NOPROTO/);
  });

  it('requires AUTH before anything else when a password is set', async () => {
    const { text } = await raw(
      `GET k\r\nAUTH wrong\r\nAUTH default "${password}"\r\nPING\r\n`,
      500,
    );
    expect(text.split('\r\n')).toEqual([
      '-NOAUTH Authentication required.',
      '-WRONGPASS invalid username-password pair or user is disabled.',
      '+OK',
      '+PONG',
      '',
    ]);
    const hello = await raw(
      `HELLO 2 AUTH default "${password}" SETNAME probe\r\nCLIENT GETNAME\r\n`,
      500,
    );
    expect(hello.text).toMatch(/\$5\r\nprobe\r\n$/);
  });

  it('CLIENT SETNAME / LIST / KILL, INFO sections, CONFIG GET, READONLY and WAIT', async () => {
    const client = await redis();
    const victim = await redis();
    await victim.client('SETNAME', 'victim');
    const list = (await client.client('LIST')) as string;
    const line = list.split('\n').find((entry) => entry.includes('name=victim'))!;
    const id = /id=(\d+)/.exec(line)![1]!;
    // The last command, lower-cased as Redis shows it (the server keeps it as planned).
    expect(line).toContain(' cmd=client ');
    // Filters combine: no connection is both a replica and this one.
    expect(await client.call('CLIENT', 'KILL', 'ID', id, 'TYPE', 'replica')).toBe(0);
    expect(await client.call('CLIENT', 'KILL', 'ID', id, 'USER', 'default', 'TYPE', 'normal')).toBe(
      1,
    );
    await expect(victim.ping()).rejects.toThrow();
    const info = await client.info('keyspace', 'raft');
    expect(info).toContain('# Raft');
    expect(info).not.toContain('# Server');
    expect(await client.info('cluster')).toBe('# Cluster\r\ncluster_enabled:0\r\n');
    expect(await client.config('GET', 'maxc*')).toEqual(['maxclients', String(connectionsMax)]);
    // The idle timeout is under a second here: reported as 1, never as 0 ("no timeout").
    expect(await client.config('GET', 'timeout', 'proto-max-bulk-len')).toEqual([
      'timeout',
      '1',
      'proto-max-bulk-len',
      String(requestBytesMax),
    ]);
    expect(await client.call('READONLY')).toBe('OK');
    expect(await client.client('INFO')).toContain('consistency=stale');
    expect(await client.call('READWRITE')).toBe('OK');
    // One server: no other server to wait for; WAIT answers once the timeout passes.
    expect(await client.call('WAIT', '1', '50')).toBe(0);
  });

  it('closes an idle connection after the idle timeout', async () => {
    const { text, closed } = await raw(`AUTH "${password}"\r\n`, idleTimeoutMs * 5);
    expect(text).toBe('+OK\r\n');
    expect(closed).toBe(true);
  });

  it('refuses a request over the size limit by closing that connection only', async () => {
    const value = 'x'.repeat(requestBytesMax + 1);
    const { text, closed } = await raw(
      `AUTH "${password}"\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n${value}\r\n`,
    );
    expect(text).toMatch(/^\+OK\r\n-ERR Protocol error: request larger/);
    expect(closed).toBe(true);
  });
});

describe('maxclients', () => {
  it('refuses connections beyond the limit with an error and closes them', async () => {
    const limitDirectory = mkdtempSync(join(tmpdir(), 'raftkit-kv-maxclients-'));
    const layout = await freePortLayout(1);
    const limited = await startKvNode({
      id: 'n1',
      layout,
      directory: limitDirectory,
      tickMs: 10,
      connectionLimits: { connectionsMax: 2 },
    });
    const target = splitHostPort(layout.members[0]!.client);
    const held = [connect(target), connect(target)];
    try {
      await Promise.all(
        held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))),
      );
      while (limited.metrics.connectionsOpen < 2)
        await new Promise((resolve) => setTimeout(resolve, 10));
      const refused = connect(target);
      const received: Buffer[] = [];
      refused.on('data', (chunk: Buffer) => received.push(chunk));
      await new Promise((resolve) => refused.on('close', resolve));
      expect(Buffer.concat(received).toString()).toBe('-ERR max number of clients reached\r\n');
    } finally {
      for (const socket of held) socket.destroy();
      await limited.stop();
      rmSync(limitDirectory, { recursive: true, force: true });
    }
  });
});
