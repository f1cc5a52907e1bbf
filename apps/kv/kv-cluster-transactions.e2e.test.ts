// ioredis and redis-cli against a real 3-process cluster with a password: MULTI/EXEC as one log
// entry through a follower, WATCH across servers, pipelines, scanStream, hashes, sets and expiry,
// and transactions that stay whole and applied once while the leader is killed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../cli/local-cluster.js';
import { splitHostPort } from './cluster-layout.js';
import {
  startProcessCluster,
  stopProcessCluster,
  strictRedis,
  waitFor,
} from './process-test.test-helpers.js';

const run = promisify(execFile);
const password = 'cluster secret';
const ids = ['n1', 'n2', 'n3'];

let cluster: LocalCluster | null = null;
const clients: Redis[] = [];

function clientAddress(id: string): { host: string; port: number } {
  return splitHostPort(cluster!.layout.members.find((member) => member.id === id)!.client);
}

/** An authenticated client that never reconnects or queues, so failures show at once. */
async function redisFor(id: string): Promise<Redis> {
  const client = strictRedis(cluster!.layout.members.find((member) => member.id === id)!.client, {
    password,
  });
  clients.push(client);
  await client.connect();
  return client;
}

/** The leader's id as `via` sees it, or null during an election or when `via` is down. */
async function leaderId(via: string): Promise<string | null> {
  const client = await redisFor(via);
  try {
    const reply = (await client.call('RAFT', 'LEADER')) as [string, string] | null;
    return reply?.[0] ?? null;
  } finally {
    client.disconnect();
  }
}

async function redisCli(id: string, input: string): Promise<string> {
  const { host, port } = clientAddress(id);
  const child = run(
    'redis-cli',
    ['-h', host, '-p', String(port), '--no-auth-warning', '-a', password],
    { timeout: 10_000 },
  );
  child.child.stdin!.end(input);
  return (await child).stdout.trim();
}

/** The follower's counter of proposed write batches (one batch, one log entry). */
async function writeBatches(client: Redis): Promise<number> {
  const info = await client.info('stats');
  return Number(/total_write_batches:(\d+)/.exec(info)![1]);
}

beforeAll(async () => {
  // Fast elections keep the failover short; in production the password would come from the
  // environment, a flag is enough here.
  cluster = await startProcessCluster('raftkit-kv-tx-e2e-', [
    '--tick-ms',
    '50',
    '--password',
    password,
  ]);
  await waitFor('a leader', () => leaderId('n1'));
}, 60_000);

afterAll(() => stopProcessCluster(cluster, clients), 30_000);

describe('transactions and data types with ioredis on a 3-process cluster', () => {
  it('multi().set().incr().exec() through a follower is one log entry, visible on every server', async () => {
    const leader = await waitFor('a leader', () => leaderId('n1'));
    const follower = ids.find((id) => id !== leader)!;
    const client = await redisFor(follower);
    // The server's first write also registers its session: keep that out of the count.
    expect(await client.set('warm', '1')).toBe('OK');
    const before = await writeBatches(client);
    expect(await client.multi().set('tx:a', '1').incr('tx:a').get('tx:a').exec()).toEqual([
      [null, 'OK'],
      [null, 2],
      [null, '2'],
    ]);
    expect((await writeBatches(client)) - before).toBe(1);
    for (const id of ids) expect(await (await redisFor(id)).get('tx:a'), id).toBe('2');
    // Queue-time error: nothing proposed. Run-time error: its entry only.
    await expect(client.multi().incr('tx:a').call('GET').exec()).rejects.toThrow(/EXECABORT/);
    expect(await client.get('tx:a')).toBe('2');
    const mixed = await client.multi().incr('tx:a').call('INCRBY', 'tx:a', 'x').incr('tx:a').exec();
    expect(mixed!.map(([error, value]) => (error === null ? value : 'error'))).toEqual([
      3,
      'error',
      4,
    ]);
  });

  it('WATCH on one server aborts EXEC (null reply) after a write through another', async () => {
    const watcher = await redisFor('n1');
    const other = await redisFor('n3');
    await watcher.set('tx:balance', '10');
    expect(await watcher.watch('tx:balance')).toBe('OK');
    await other.incrby('tx:balance', 5);
    expect(await watcher.multi().decrby('tx:balance', 3).exec()).toBeNull();
    expect(await other.get('tx:balance')).toBe('15');
    // The optimistic loop's retry: nothing changed since this WATCH, so EXEC runs.
    await watcher.watch('tx:balance');
    const balance = Number(await watcher.get('tx:balance'));
    expect(
      await watcher
        .multi()
        .set('tx:balance', String(balance - 3))
        .exec(),
    ).toEqual([[null, 'OK']]);
    expect(await other.get('tx:balance')).toBe('12');
    // UNWATCH forgets the keys: a later write does not abort.
    await watcher.watch('tx:balance');
    expect(await watcher.unwatch()).toBe('OK');
    await other.set('tx:balance', '0');
    expect(await watcher.multi().get('tx:balance').exec()).toEqual([[null, '0']]);
  });

  it('pipelines hashes, sets and expiry in order; scanStream, hscanStream, sscanStream on a follower', async () => {
    const client = await redisFor('n2');
    const pipeline = client.pipeline();
    for (let n = 0; n < 120; n++) {
      pipeline.hset(`user:${n}`, { name: `u${n}`, visits: '1' }).sadd('members', `u${n}`);
    }
    pipeline
      .hincrby('user:7', 'visits', 4)
      .hgetall('user:7')
      .sismember('members', 'u7')
      .srem('members', 'u8')
      .scard('members')
      .pexpire('user:9', 60_000)
      .setex('temp', 100, 'x')
      .persist('temp')
      .ttl('temp')
      .hget('members', 'f');
    const results = (await pipeline.exec())!;
    const tail = results.slice(240).map(([error, value]) => (error === null ? value : 'error'));
    expect(tail).toEqual([5, { name: 'u7', visits: '5' }, 1, 1, 119, 1, 'OK', 1, -1, 'error']);
    expect(String(results.at(-1)![0])).toMatch(/^ReplyError: WRONGTYPE/);
    expect(await client.pttl('user:9')).toBeGreaterThan(0);
    const seen = new Set<string>();
    for await (const keys of client.scanStream({ match: 'user:*', count: 25 })) {
      for (const key of keys as string[]) seen.add(key);
    }
    expect(seen.size).toBe(120);
    const fields: string[] = [];
    for await (const pairs of client.hscanStream('user:7', { match: 'n*' })) {
      fields.push(...(pairs as string[]));
    }
    expect(fields).toEqual(['name', 'u7']);
    const members = new Set<string>();
    for await (const batch of client.sscanStream('members', { count: 10 })) {
      for (const member of batch as string[]) members.add(member);
    }
    expect(members.size).toBe(119);
    expect(await client.type('members')).toBe('set');
    // Expiry by replicated time, seen through a follower.
    await client.set('short', 'lived', 'PX', 200);
    await waitFor('the key to expire', async () =>
      (await client.exists('short')) === 0 ? true : null,
    );
  });

  it('redis-cli runs a transaction, a SCAN and RESP3 refused through a follower', async () => {
    const leader = await waitFor('a leader', () => leaderId('n1'));
    const follower = ids.find((id) => id !== leader)!;
    const output = await redisCli(
      follower,
      'MULTI\nSET cli:tx 5\nINCR cli:tx\nSADD cli:s a\nEXEC\n',
    );
    expect(output.split('\n')).toEqual(['OK', 'QUEUED', 'QUEUED', 'QUEUED', 'OK', '6', '1']);
    const { host, port } = clientAddress(follower);
    const { stdout } = await run(
      'redis-cli',
      ['-h', host, '-p', String(port), '--no-auth-warning', '-a', password, '--scan'],
      { timeout: 10_000 },
    );
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['cli:tx', 'cli:s']));
    // redis-cli -3 asks for RESP3 with HELLO 3; the NOPROTO refusal keeps it on RESP2.
    const resp3 = await run(
      'redis-cli',
      ['-3', '-h', host, '-p', String(port), '--no-auth-warning', '-a', password, 'GET', 'cli:tx'],
      { timeout: 10_000 },
    );
    expect(resp3.stdout.trim()).toBe('6');
    expect(resp3.stderr).toMatch(/NOPROTO/);
  });

  it("WAIT counts the servers holding the commit index: blocks on the leader, a commit's majority on a follower", async () => {
    const leader = await waitFor('a leader', () => leaderId('n1'));
    const follower = ids.find((id) => id !== leader)!;
    const onLeader = await redisFor(leader);
    await onLeader.set('wait:k', '1');
    // Both followers catch up with the leader's commit index well within the bound.
    expect(await onLeader.call('WAIT', '2', '10000')).toBe(2);
    // A follower cannot see the others: it answers what a commit guarantees, 3 voters → 1.
    expect(await (await redisFor(follower)).call('WAIT', '2', '0')).toBe(1);
  });

  it('READONLY: a follower cut off from the others still answers reads from its own state', async () => {
    const leader = await waitFor('a leader', () => leaderId('n1'));
    const follower = ids.find((id) => id !== leader)!;
    const writer = await redisFor(leader);
    const reader = await redisFor(follower);
    await writer.set('stale:k', 'before');
    expect(await reader.call('READONLY')).toBe('OK');
    await waitFor('the follower to apply the write', async () =>
      (await reader.get('stale:k')) === 'before' ? true : null,
    );
    const others = ids.filter((id) => id !== follower);
    expect(await reader.call('RAFT', 'PARTITION', ...others)).toBe('OK');
    try {
      expect(await writer.set('stale:k', 'after')).toBe('OK');
      // Stale: answered from the follower's own state, without a round to the leader.
      expect(await reader.get('stale:k')).toBe('before');
      // Linearizable again: the follower cannot confirm with a leader, and says so.
      expect(await reader.call('READWRITE')).toBe('OK');
      await expect(reader.get('stale:k')).rejects.toThrow();
    } finally {
      await reader.call('RAFT', 'HEAL');
    }
    await waitFor('the healed follower to answer linearizably', async () =>
      (await reader.get('stale:k')) === 'after' ? true : null,
    );
  }, 60_000);

  it('transactions stay whole and apply once while the leader is killed', async () => {
    const leader = await waitFor('a leader', () => leaderId('n1'));
    // Per writer: every EXEC increments a counter and adds its own number to a set. Applied
    // twice, a transaction would count twice but add once; applied in part, the two would differ.
    const acknowledged = new Map<string, number[]>();
    let running = true;
    const writer = async (id: string, name: string): Promise<void> => {
      const client = await redisFor(id);
      const mine: number[] = [];
      acknowledged.set(name, mine);
      for (let n = 1; running; n++) {
        try {
          const replies = await client
            .multi()
            .incr(`count:${name}`)
            .sadd(`applied:${name}`, String(n))
            .exec();
          if (replies?.every(([error]) => error === null)) mine.push(n);
        } catch {
          // Unacknowledged (the outcome is unknown, the cluster had no leader): applied once or
          // never.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    // On the followers: their EXECs are forwarded to the leader about to die, and the servers
    // retry those whose outcome the kill left unknown.
    const followers = ids.filter((id) => id !== leader);
    const writers = followers.flatMap((id) => [1, 2].map((slot) => writer(id, `${id}-${slot}`)));
    await waitFor('transactions before the failover', () =>
      Promise.resolve([...acknowledged.values()].every((list) => list.length >= 3) ? true : null),
    );
    await cluster!.kill(leader, 'SIGKILL');
    const survivor = followers[0]!;
    await waitFor('a new leader', async () => {
      const id = await leaderId(survivor);
      return id !== null && id !== leader ? id : null;
    });
    const beforeFailover = new Map([...acknowledged].map(([name, list]) => [name, list.length]));
    await waitFor('transactions after the failover', () =>
      Promise.resolve(
        [...acknowledged].every(([name, list]) => list.length > beforeFailover.get(name)! + 2)
          ? true
          : null,
      ),
    );
    running = false;
    await Promise.all(writers);
    const reader = await redisFor(survivor);
    for (const [name, list] of acknowledged) {
      const count = Number(await reader.get(`count:${name}`));
      const applied = (await reader.smembers(`applied:${name}`)).map(Number);
      expect(count, name).toBe(applied.length);
      expect(applied, name).toEqual(expect.arrayContaining(list));
    }
    await cluster!.startMember(leader);
  }, 120_000);
});
