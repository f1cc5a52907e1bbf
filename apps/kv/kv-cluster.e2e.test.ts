import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../cli/local-cluster.js';
import { splitHostPort, type MemberAddresses } from './cluster-layout.js';
import { sendOnce } from './resp/resp-client.js';
import {
  startProcessCluster,
  stopProcessCluster,
  strictRedis,
  waitFor,
} from './process-test.test-helpers.js';

const run = promisify(execFile);

let cluster: LocalCluster | null = null;
const clients: Redis[] = [];

function member(id: string): MemberAddresses {
  return cluster!.layout.members.find((candidate) => candidate.id === id)!;
}

async function redisFor(id: string): Promise<Redis> {
  const client = strictRedis(member(id).client);
  clients.push(client);
  await client.connect();
  return client;
}

async function redisCli(id: string, ...args: string[]): Promise<string> {
  const { host, port } = splitHostPort(member(id).client);
  const { stdout } = await run('redis-cli', ['-h', host, '-p', String(port), ...args], {
    timeout: 10_000,
  });
  return stdout.trim();
}

/** One sample of a server's metrics, by metric name (labels dropped). */
async function metricsOf(id: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${member(id).http}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([-\d.e+]+)$/.exec(line);
    if (match !== null && !samples.has(match[1]!)) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function leaderId(via: string): Promise<string | null> {
  const reply = await sendOnce(member(via).client, ['RAFT', 'LEADER'], 2000);
  if (reply.type !== 'array' || reply.value === null) return null;
  const first = reply.value[0];
  return first?.type === 'bulk' && first.value !== null ? first.value.toString() : null;
}

beforeAll(async () => {
  // Fast elections keep the failover part of the test short.
  cluster = await startProcessCluster('raftkit-kv-e2e-', ['--tick-ms', '50']);
  await waitFor('a leader', () => leaderId('n1'));
}, 60_000);

afterAll(() => stopProcessCluster(cluster, clients), 30_000);

describe('kv server: a 3-process cluster', () => {
  it('serves ioredis on every server: writes forwarded, reads linearizable, pipelines in order', async () => {
    const leader = (await leaderId('n1'))!;
    const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    const onFollower = await redisFor(follower);
    const onLeader = await redisFor(leader);
    expect(await onFollower.set('greeting', 'hello')).toBe('OK');
    // Linearizable: a read on another server sees the acknowledged write at once.
    expect(await onLeader.get('greeting')).toBe('hello');
    expect(await onFollower.set('greeting', 'again', 'NX')).toBeNull();
    expect(await onFollower.incr('counter')).toBe(1);
    const pipeline = onFollower.pipeline();
    for (let n = 0; n < 50; n++) pipeline.set(`p${n}`, `${n}`).get(`p${n}`).incr('counter');
    const results = (await pipeline.exec())!;
    expect(results.filter(([error]) => error !== null)).toEqual([]);
    expect(results.map(([, value]) => value)).toEqual(
      Array.from({ length: 50 }, (_, n) => ['OK', `${n}`, n + 2]).flat(),
    );
    expect(await onLeader.mget('p0', 'p49', 'nothing')).toEqual(['0', '49', null]);
    // A pipeline of writes travels as a handful of proposals, not one per command.
    const before = await metricsOf(follower);
    const writes = onFollower.pipeline();
    for (let n = 0; n < 200; n++) writes.set(`batched${n}`, `${n}`);
    expect((await writes.exec())!.every(([error]) => error === null)).toBe(true);
    const after = await metricsOf(follower);
    const delta = (name: string): number => after.get(name)! - before.get(name)!;
    expect(delta('kv_write_operations_total')).toBe(200);
    expect(delta('kv_write_batches_total')).toBeLessThanOrEqual(10);
    expect(after.get('raftkit_storage_save_seconds_count')).toBeGreaterThan(0);
    // Bad input is an error reply and the connection stays usable.
    await expect(onFollower.incr('greeting')).rejects.toThrow(/not an integer/);
    await expect(onFollower.call('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/);
    await expect(onFollower.call('GET')).rejects.toThrow(/wrong number of arguments/);
    expect(await onFollower.ping()).toBe('PONG');
  });

  it('expires keys by replicated time and answers per-connection consistency', async () => {
    const client = await redisFor('n2');
    expect(await client.set('short', 'lived', 'PX', 300)).toBe('OK');
    expect(await client.get('short')).toBe('lived');
    // Idle cluster: the leader's clock entries carry time forward so the key still expires.
    await waitFor('expiry', async () => ((await client.get('short')) === null ? true : null), 5000);
    expect(await client.call('RAFT', 'CONSISTENCY', 'stale')).toBe('OK');
    expect(await client.call('RAFT', 'CONSISTENCY')).toBe('stale');
    expect(await client.exists('short')).toBe(0);
  });

  it('works with redis-cli, including RAFT administration', async () => {
    expect(await redisCli('n3', 'SET', 'cli-key', 'cli value')).toBe('OK');
    expect(await redisCli('n1', 'GET', 'cli-key')).toBe('cli value');
    expect(await redisCli('n2', 'APPEND', 'cli-key', '!')).toBe('10');
    const status = JSON.parse(await redisCli('n2', 'RAFT', 'STATUS')) as { leaderId: string };
    expect(['n1', 'n2', 'n3']).toContain(status.leaderId);
    const members = JSON.parse(await redisCli('n1', 'RAFT', 'MEMBERS')) as { id: string }[];
    expect(members.map((entry) => entry.id)).toEqual(['n1', 'n2', 'n3']);
    const target = ['n1', 'n2', 'n3'].find((id) => id !== status.leaderId)!;
    expect(await redisCli(status.leaderId, 'RAFT', 'TRANSFER', target)).toBe('OK');
    expect(
      await waitFor('the new leader', async () =>
        (await leaderId('n1')) === target ? true : null,
      ),
    ).toBe(true);
    expect(await redisCli(target, 'RAFT', 'SETTINGS', 'prevote', 'on')).toBe('OK');
    expect(await redisCli(status.leaderId, 'RAFT', 'SETTINGS', 'prevote', 'on')).toMatch(
      /^NOTLEADER /,
    );
    const { stdout } = await run('curl', ['-s', `http://${member('n1').http}/metrics`]).catch(
      () => ({
        stdout: '',
      }),
    );
    if (stdout !== '') expect(stdout).toContain('raftkit_storage_save_seconds_bucket');
  });

  it('answers the raftkit CLI with --json', async () => {
    // The CLI from its sources, as `npm run raftkit` runs it in a clone.
    const cliMain = new URL('../cli/main.ts', import.meta.url).pathname;
    const cli = process.execPath;
    const source = ['--conditions=raftkit-source', '--import', 'tsx', cliMain];
    const { stdout } = await run(
      cli,
      [...source, 'status', '--json', '--dir', cluster!.directory],
      {
        timeout: 20_000,
      },
    );
    const view = JSON.parse(stdout) as {
      id: string;
      reachable: boolean;
      status: { role: string };
    }[];
    expect(view.map((entry) => entry.id)).toEqual(['n1', 'n2', 'n3']);
    expect(view.filter((entry) => entry.status.role === 'leader')).toHaveLength(1);
    const members = await run(cli, [
      ...source,
      'members',
      '--json',
      '--server',
      member('n2').client,
    ]);
    expect((JSON.parse(members.stdout) as unknown[]).length).toBe(3);
  });

  it('closes only the connection that sends a malformed or oversized request', async () => {
    const { host, port } = splitHostPort(member('n1').client);
    const socket = connect({ host, port });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('PING\r\n*1\r\n$999999999\r\n');
    await closed;
    expect(Buffer.concat(received).toString()).toMatch(
      /^\+PONG\r\n-ERR Protocol error: request larger/,
    );
    expect(await redisCli('n1', 'PING')).toBe('PONG');
  });

  it('answers a client that half-closes after sending (printf … | nc)', async () => {
    const { host, port } = splitHostPort(member('n2').client);
    const socket = connect({ host, port });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.end('SET half-closed yes\r\nGET half-closed\r\n');
    await closed;
    expect(Buffer.concat(received).toString()).toBe('+OK\r\n$3\r\nyes\r\n');
  });

  it('loses no acknowledged write when the leader is killed under load', async () => {
    const leader = await waitFor('a leader', () => leaderId('n1'));
    const acknowledged = new Map<string, number>();
    let running = true;
    const writer = async (id: string, key: string): Promise<void> => {
      const client = await redisFor(id);
      for (let value = 1; running; value++) {
        try {
          if ((await client.set(key, String(value))) === 'OK') acknowledged.set(key, value);
        } catch {
          // Unacknowledged: it may or may not have been applied; either is fine.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const writers = ['n1', 'n2', 'n3'].flatMap((id) =>
      [1, 2, 3].map((slot) => writer(id, `load:${id}:${slot}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await cluster!.kill(leader, 'SIGKILL');
    const survivor = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    const newLeader = await waitFor('a new leader', async () => {
      const id = await leaderId(survivor);
      return id !== null && id !== leader ? id : null;
    });
    // Writers on the surviving servers go on after the failover: acknowledgements from now on
    // can only come from the new leader.
    const beforeFailover = new Map(acknowledged);
    const progressed = (): number =>
      [...acknowledged].filter(([key, value]) => value > (beforeFailover.get(key) ?? 0)).length;
    await waitFor('writes after the failover', () =>
      Promise.resolve(progressed() >= 3 ? true : null),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(writers);
    expect(newLeader).not.toBe(leader);
    const reader = await redisFor(survivor);
    for (const [key, value] of acknowledged) {
      const stored = Number(await reader.get(key));
      expect(stored, key).toBeGreaterThanOrEqual(value);
    }
    // The killed server restarts from its data directory and catches up.
    await cluster!.startMember(leader);
    const restarted = await redisFor(leader);
    await restarted.call('RAFT', 'CONSISTENCY', 'stale');
    const expected = Object.fromEntries(
      await Promise.all([...acknowledged.keys()].map(async (key) => [key, await reader.get(key)])),
    ) as Record<string, string>;
    await waitFor('the restarted server to catch up', async () => {
      for (const [key, value] of Object.entries(expected)) {
        if ((await restarted.get(key)) !== value) return null;
      }
      return true;
    });
  });
});
