// The durable shapes: 3 apps/kv server processes on this machine (FileStorage with fdatasync,
// TCP between them), SET with 100-byte values from redis-benchmark at several client counts, and
// the failover time when the leader is killed under load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalCluster, freePortLayout } from '../../apps/cli/index.js';
import { RespClient } from '../../apps/kv/index.js';
import { leaderOf, redisBenchmark, serverCounters } from './kv-tools.js';
import { median, sleep } from './stats.js';

/** The value size of every durable write. */
export const valueBytes = 100;

/** One client count against the cluster (or a peer measured the same way). */
export interface DurableRow {
  readonly target: string;
  readonly clients: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Log entries per storage save on the leader during the run (raftkit only). */
  readonly entriesPerFsync: number | null;
}

/** Time from SIGKILL of the leader to the first write a survivor acknowledged. */
export interface FailoverResult {
  readonly rounds: number;
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  readonly maxMs: number;
}

/** A running 3-process cluster in a scratch directory; `close` stops it and removes the data. */
export class DurableCluster {
  readonly cluster: LocalCluster;
  readonly #directory: string;

  private constructor(cluster: LocalCluster, directory: string) {
    this.cluster = cluster;
    this.#directory = directory;
  }

  static async start(): Promise<DurableCluster> {
    const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-'));
    const cluster = new LocalCluster({ directory, layout: await freePortLayout(3) });
    const started = new DurableCluster(cluster, directory);
    try {
      await cluster.start();
    } catch (error) {
      await started.close();
      throw error;
    }
    return started;
  }

  /** The leader's member entry, once one is elected. */
  async leader(): Promise<{ id: string; client: string; http: string }> {
    const running = this.cluster.running();
    const ask = this.cluster.layout.members.find((member) => running.includes(member.id))!;
    const id = await leaderOf(ask.client);
    const member = this.cluster.layout.members.find((candidate) => candidate.id === id);
    if (member === undefined) throw new Error(`unknown leader ${id}`);
    return member;
  }

  async close(): Promise<void> {
    await this.cluster.stop();
    rmSync(this.#directory, { recursive: true, force: true });
  }
}

/** SET throughput and latency at `clients` connections against the leader, with entries/fsync. */
export async function measureDurable(
  durable: DurableCluster,
  clients: number,
  requests: number,
): Promise<DurableRow> {
  const leader = await durable.leader();
  const before = await serverCounters(leader.http);
  const [result] = await redisBenchmark(
    { address: leader.client, pipeline: 1, requests, clients, valueBytes },
    ['-t', 'set'],
  );
  const after = await serverCounters(leader.http);
  if (result === undefined) throw new Error('redis-benchmark printed no result');
  const saves = (after.storageWrites ?? 0) - (before.storageWrites ?? 0);
  const entries = (after.entriesPersisted ?? 0) - (before.entriesPersisted ?? 0);
  return {
    target: 'raftkit',
    clients,
    opsPerSecond: result.requestsPerSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    entriesPerFsync: saves > 0 ? Number((entries / saves).toFixed(1)) : null,
  };
}

/** Writers that keep SETting through a failover; errors (no leader yet) are expected and ignored. */
async function loadUntil(addresses: readonly string[], stop: { done: boolean }): Promise<void> {
  const value = 'v'.repeat(valueBytes);
  const writer = async (address: string, slot: number): Promise<void> => {
    while (!stop.done) {
      const client = await RespClient.connect(address, 1000).catch(() => null);
      if (client === null) {
        await sleep(20);
        continue;
      }
      try {
        for (let count = 0; !stop.done; count++) {
          await client.send(['SET', `load:${slot}:${count % 1000}`, value]);
        }
      } catch {
        await sleep(20);
      } finally {
        client.close();
      }
    }
  };
  await Promise.all(
    addresses.flatMap((address, position) =>
      [0, 1, 2, 3].map((slot) => writer(address, position * 4 + slot)),
    ),
  );
}

/** Probes every address with a SET until one is acknowledged; resolves with when (ms). */
async function firstAcknowledgedWrite(
  addresses: readonly string[],
  limitMs: number,
): Promise<number> {
  const deadline = performance.now() + limitMs;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const probe = async (address: string): Promise<void> => {
      while (!settled && performance.now() < deadline) {
        const client = await RespClient.connect(address, 500).catch(() => null);
        if (client === null) {
          await sleep(5);
          continue;
        }
        try {
          while (!settled && performance.now() < deadline) {
            const reply = await client.send(['SET', 'failover:probe', 'x']);
            if (reply.type === 'simple' && reply.value === 'OK') {
              settled = true;
              resolve(performance.now());
              return;
            }
            await sleep(2);
          }
        } catch {
          await sleep(5);
        } finally {
          client.close();
        }
      }
    };
    void Promise.all(addresses.map(probe)).then(() => {
      if (!settled) reject(new Error(`no write acknowledged within ${limitMs} ms`));
    });
  });
}

/**
 * Kills the leader with SIGKILL while writers load every member, `rounds` times, and measures
 * the time until a survivor acknowledges a write; the killed member restarts between rounds.
 */
export async function measureFailover(
  durable: DurableCluster,
  rounds: number,
): Promise<FailoverResult> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const leader = await durable.leader();
    const survivors = durable.cluster.layout.members.filter((member) => member.id !== leader.id);
    const stop = { done: false };
    const load = loadUntil(
      durable.cluster.layout.members.map((member) => member.client),
      stop,
    );
    await sleep(500);
    const killedAt = performance.now();
    await durable.cluster.kill(leader.id, 'SIGKILL');
    try {
      const acknowledgedAt = await firstAcknowledgedWrite(
        survivors.map((member) => member.client),
        30_000,
      );
      samples.push(Number((acknowledgedAt - killedAt).toFixed(1)));
    } finally {
      stop.done = true;
      await load;
    }
    await durable.cluster.startMember(leader.id);
    // Let the restarted member catch up before the next round kills someone.
    await sleep(1000);
  }
  return {
    rounds,
    samplesMs: samples,
    medianMs: median(samples),
    maxMs: Math.max(...samples),
  };
}
