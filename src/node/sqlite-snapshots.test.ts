// The database is the snapshot: a state machine living in the same SQLite database as the log
// snapshots by copying its table into a SQLite file, and a follower restores by attaching that
// file and copying the table back, in the transaction that records the applied index.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapSnapshot, configurationOf, seededRandom, type NodeId } from '../core/index.js';
import {
  SqliteKeyValueStore,
  SqliteStorage,
  encodeKeyValueCommand,
  type SqliteDatabase,
} from '../storage/sqlite/index.js';
import {
  applicationDatabase,
  removeDatabases,
} from '../storage/sqlite/temporary-databases.test-helpers.js';
import type { RaftNodeEvents } from './node-events.js';
import { RaftNode } from './raft-node.js';
import { TestCluster } from './test-cluster.test-helpers.js';

afterEach(removeDatabases);

const set = (key: string, value: string) => encodeKeyValueCommand({ op: 'set', key, value });

async function storeOn(database: SqliteDatabase): Promise<SqliteKeyValueStore> {
  const storage = new SqliteStorage({ database });
  if ((await storage.open()) === null) {
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a'])), {
      term: 1,
      vote: 'a',
      commit: 0,
    });
  }
  const store = new SqliteKeyValueStore(storage);
  store.open();
  return store;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const collected: Uint8Array[] = [];
  for await (const chunk of chunks) collected.push(chunk);
  return collected;
}

async function* replay(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

describe('SqliteKeyValueStore snapshots: the database is the snapshot', () => {
  it('copies the table as of the call, even while applying goes on, and restores it with its index', async () => {
    const source = await storeOn(applicationDatabase());
    for (let index = 1; index <= 50; index++)
      source.apply(set(`k${index % 20}`, `v${index}`), { index });
    const stream = source.snapshot();
    // Applied after the snapshot was taken: not part of it.
    source.apply(set('late', 'x'), { index: 51 });
    const chunks = await collect(stream);
    // A SQLite file: its first bytes say so.
    expect(Buffer.from(chunks[0]!.subarray(0, 15)).toString('latin1')).toBe('SQLite format 3');
    const target = await storeOn(applicationDatabase());
    target.apply(set('stale', 'gone after restore'), { index: 1 });
    await target.restore(replay(chunks), { index: 50 });
    expect(target.appliedIndex()).toBe(50);
    expect(target.entries()).toEqual(source.entries().filter(([key]) => key !== 'late'));
    expect(target.get('stale')).toBeUndefined();
    // Applying resumes right after the snapshot's index.
    target.apply(set('next', 'y'), { index: 51 });
    expect(target.get('next')).toBe('y');
  });

  it('leaves no copy behind in the temporary directory', async () => {
    const source = await storeOn(applicationDatabase());
    source.apply(set('a', '1'), { index: 1 });
    const leftovers = () =>
      readdirSync(tmpdir()).filter((name) => name.startsWith('raftkit-sqlite-snapshot-'));
    const before = leftovers().length;
    const chunks = await collect(source.snapshot());
    const target = await storeOn(applicationDatabase());
    await target.restore(replay(chunks), { index: 1 });
    expect(leftovers().length).toBe(before);
  });

  it('refuses a restore that would move the applied index backwards, changing nothing', async () => {
    const source = await storeOn(applicationDatabase());
    source.apply(set('a', '1'), { index: 1 });
    const chunks = await collect(source.snapshot());
    const target = await storeOn(applicationDatabase());
    for (let index = 1; index <= 3; index++) target.apply(set('b', `${index}`), { index });
    await expect(target.restore(replay(chunks), { index: 2 })).rejects.toThrow(/applied after/);
    expect(target.entries()).toEqual([['b', '3']]);
  });
});

describe('a cluster whose state lives in SQLite beside the log', () => {
  it('catches a restarted follower up by sending the database copy', async () => {
    const events: RaftNodeEvents['snapshot'][] = [];
    const cluster = new TestCluster({ size: 3 });
    const files = new Map<NodeId, SqliteDatabase>();
    const stores = new Map<NodeId, SqliteKeyValueStore>();
    const nodes = new Map<NodeId, RaftNode<unknown, string, unknown>>();
    let starts = 0;
    const start = async (id: NodeId) => {
      let database = files.get(id);
      if (database === undefined) {
        database = applicationDatabase();
        files.set(id, database);
      }
      const storage = new SqliteStorage({ database });
      const store = new SqliteKeyValueStore(storage);
      store.open();
      const node = new RaftNode<unknown, string, unknown>({
        id,
        storage,
        transport: cluster.network.transport(),
        stateMachine: store,
        initialConfiguration: cluster.ids,
        clock: cluster.clock,
        tickMs: 10,
        // Each start is a new process: a fresh random sequence.
        random: seededRandom(cluster.ids.indexOf(id) * 100 + ++starts),
        snapshots: { entriesMax: 10, trailingEntries: 0, chunkBytes: 4096 },
      });
      node.on('snapshot', (event) => events.push(event));
      stores.set(id, store);
      nodes.set(id, node);
      await node.start();
      return node;
    };
    for (const id of cluster.ids) await start(id);
    await cluster.runUntil(() => [...nodes.values()].some((node) => node.role === 'leader'));
    const leader = [...nodes.values()].find((node) => node.role === 'leader')!;
    const lagging = cluster.ids.find((id) => id !== leader.id)!;
    await nodes.get(lagging)!.stop();
    for (let round = 0; round < 30; round++) {
      await cluster.settle(leader.propose(set(`key-${round % 7}`, `value-${round}`)));
    }
    await cluster.runUntil(() => leader.status().snapshotIndex > 20);
    const restarted = await start(lagging);
    await cluster.runUntil(
      () => restarted.status().appliedIndex === leader.status().commitIndex,
      20_000,
    );
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'installed', nodeId: lagging, peer: leader.id }),
    );
    expect(stores.get(lagging)!.entries()).toEqual(stores.get(leader.id)!.entries());
    expect(stores.get(lagging)!.appliedIndex()).toBe(leader.status().commitIndex);
    await Promise.all([...nodes.values()].map((node) => node.stop()));
  });
});
