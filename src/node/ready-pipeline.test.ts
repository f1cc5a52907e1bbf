// The runtime's side of the core's Ready contract (src/core/ready.ts) once writes and applies run
// beside new Ready values: what may leave before a write is durable, and what only after.
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, RaftError, RaftMessage, Ready } from '../core/index.js';
import { MemoryStorage } from '../storage/memory/index.js';
import type { SaveBatch } from '../storage/log-storage.js';
import type { Message } from '../transport/transport.js';
import { NodeCounters } from './node-counters.js';
import { mergeWrites } from './persist-ready.js';
import { ReadyPipeline } from './ready-pipeline.js';
import { TestCluster } from './test-cluster.test-helpers.js';

const entry = (index: number, term = 1): Entry => ({
  kind: 'command',
  index,
  term,
  data: new Uint8Array([index]),
});

const ack = (matchIndex: number): RaftMessage => ({
  type: 'append-entries-response',
  term: 1,
  from: 'f',
  to: 'l',
  success: true,
  matchIndex,
});

function readyOf(fields: Partial<Ready>): Ready {
  return {
    hardState: null,
    entries: [],
    messages: [],
    messagesAfterPersist: [],
    committed: [],
    reads: [],
    snapshotTransfers: [],
    snapshotMessages: [],
    softState: null,
    ...fields,
  };
}

/** Storage whose saves complete only when the test says so. */
class HeldSaves {
  readonly saves: SaveBatch[] = [];
  readonly #release: ((error?: Error) => void)[] = [];

  save = (batch: SaveBatch): Promise<void> => {
    this.saves.push(batch);
    return new Promise((resolve, reject) =>
      this.#release.push((error) => (error === undefined ? resolve() : reject(error))),
    );
  };

  complete(error?: Error): void {
    const release = this.#release.shift();
    if (release === undefined) throw new Error('no save in flight');
    release(error);
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function pipelineWith(storage: HeldSaves) {
  const sent: RaftMessage[] = [];
  const durable: Ready[] = [];
  const applied: Ready[] = [];
  const failures: RaftError[] = [];
  let releaseApply: (() => void) | null = null;
  const pipeline = new ReadyPipeline({
    storage,
    counters: new NodeCounters(),
    send: (message) => sent.push(message),
    durable: (ready) => durable.push(ready),
    stableIndex: () => 0,
    apply: async (readies) => {
      await new Promise<void>((resolve) => (releaseApply = resolve));
      applied.push(...readies);
    },
    fail: (error) => failures.push(error),
  });
  const finishApply = (): void => releaseApply?.();
  return { pipeline, sent, durable, applied, failures, finishApply };
}

/** A pipeline with a synchronous apply that records the indexes it applied, in order. */
function applyingPipeline(storage: HeldSaves, stable: { index: number }) {
  const sent: RaftMessage[] = [];
  const applied: number[] = [];
  const pipeline = new ReadyPipeline({
    storage,
    counters: new NodeCounters(),
    send: (message) => sent.push(message),
    durable: () => undefined,
    stableIndex: () => stable.index,
    apply: (readies) => {
      for (const ready of readies) applied.push(...ready.committed.map((each) => each.index));
      return undefined;
    },
    fail: (error) => {
      throw error;
    },
  });
  return { pipeline, sent, applied };
}

describe('ReadyPipeline: applying what is durable already', () => {
  it('applies committed entries this server holds durably without waiting for a later save', async () => {
    const storage = new HeldSaves();
    const { pipeline, sent, applied } = applyingPipeline(storage, { index: 1 });
    pipeline.push(readyOf({ entries: [entry(2)] }));
    await turn();
    // A leader hears that entry 1 committed while it writes entry 2.
    pipeline.push(readyOf({ committed: [entry(1)], messagesAfterPersist: [ack(2)] }));
    expect(applied).toEqual([1]);
    // Its acknowledgement may vouch for entry 2: that still waits for the write.
    expect(sent).toEqual([]);
    storage.complete();
    await turn();
    expect(sent).toEqual([ack(2)]);
    expect(applied).toEqual([1]);
  });

  it('waits for the write when the committed entries are not durable here yet', async () => {
    const storage = new HeldSaves();
    const { pipeline, applied } = applyingPipeline(storage, { index: 1 });
    pipeline.push(readyOf({ entries: [entry(2)] }));
    await turn();
    // A follower learns that entry 2 committed while its own copy is still being written.
    pipeline.push(readyOf({ committed: [entry(2)] }));
    expect(applied).toEqual([]);
    storage.complete();
    await turn();
    expect(applied).toEqual([2]);
  });

  it('keeps the apply order: an earlier Ready with entries to apply goes first', async () => {
    const storage = new HeldSaves();
    const stable = { index: 2 };
    const { pipeline, applied } = applyingPipeline(storage, stable);
    pipeline.push(readyOf({ entries: [entry(3)], committed: [entry(1)] }));
    await turn();
    pipeline.push(readyOf({ committed: [entry(2)] }));
    expect(applied).toEqual([]);
    storage.complete();
    await turn();
    expect(applied).toEqual([1, 2]);
    // Once nothing waits, the next one goes at once again.
    pipeline.push(readyOf({ entries: [entry(4)] }));
    await turn();
    stable.index = 3;
    pipeline.push(readyOf({ committed: [entry(3)] }));
    expect(applied).toEqual([1, 2, 3]);
    storage.complete();
    await pipeline.idle();
  });
});

describe('ReadyPipeline: what waits for the disk', () => {
  it('sends an acknowledgement only once the save of its entries has completed', async () => {
    const storage = new HeldSaves();
    const { pipeline, sent, durable } = pipelineWith(storage);
    pipeline.push(readyOf({ entries: [entry(1)], messagesAfterPersist: [ack(1)] }));
    await turn();
    expect(storage.saves).toHaveLength(1);
    expect(sent).toEqual([]);
    expect(durable).toEqual([]);
    storage.complete();
    await turn();
    expect(sent).toEqual([ack(1)]);
    expect(durable).toHaveLength(1);
  });

  it('holds a later Ready with nothing to write behind the earlier write', async () => {
    const storage = new HeldSaves();
    const { pipeline, sent } = pipelineWith(storage);
    pipeline.push(readyOf({ entries: [entry(1)] }));
    // An answer to a duplicate append: it vouches for entry 1, which is not durable yet.
    pipeline.push(readyOf({ messagesAfterPersist: [ack(1)] }));
    await turn();
    expect(sent).toEqual([]);
    storage.complete();
    await turn();
    expect(sent).toEqual([ack(1)]);
  });

  it('gathers the Ready values taken during a save into the next save, in order', async () => {
    const storage = new HeldSaves();
    const { pipeline, durable } = pipelineWith(storage);
    const first = readyOf({ entries: [entry(1)] });
    const second = readyOf({ entries: [entry(2)] });
    const third = readyOf({ hardState: { term: 1, vote: 'a', commit: 1 }, entries: [entry(3)] });
    pipeline.push(first);
    await turn();
    pipeline.push(second);
    pipeline.push(third);
    await turn();
    expect(storage.saves).toHaveLength(1);
    storage.complete();
    await turn();
    expect(storage.saves).toHaveLength(2);
    expect(storage.saves[1]!.entries!.map((saved) => saved.index)).toEqual([2, 3]);
    expect(storage.saves[1]!.hardState).toEqual({ term: 1, vote: 'a', commit: 1 });
    storage.complete();
    await turn();
    expect(durable).toEqual([first, second, third]);
  });

  it('applies beside the next save, and never before its own save', async () => {
    const storage = new HeldSaves();
    const { pipeline, applied, finishApply } = pipelineWith(storage);
    const committing = readyOf({ entries: [entry(2)], committed: [entry(1)] });
    pipeline.push(committing);
    await turn();
    expect(applied).toEqual([]);
    storage.complete();
    await turn();
    pipeline.push(readyOf({ entries: [entry(3)] }));
    await turn();
    // The apply of the first Ready is still running while the second one's save is in flight.
    expect(storage.saves).toHaveLength(2);
    finishApply();
    await turn();
    expect(applied).toEqual([committing]);
    expect(pipeline.busy).toBe(true);
    storage.complete();
    await pipeline.idle();
    expect(pipeline.busy).toBe(false);
  });

  it('a synchronous apply finishes inside the step that made its Ready durable', () => {
    const applied: Ready[] = [];
    const pipeline = new ReadyPipeline({
      storage: new HeldSaves(),
      counters: new NodeCounters(),
      send: () => undefined,
      durable: () => undefined,
      stableIndex: () => 0,
      apply: (readies) => {
        applied.push(...readies);
        return undefined;
      },
      fail: (error) => {
        throw error;
      },
    });
    const committing = readyOf({ committed: [entry(1)] });
    pipeline.push(committing);
    expect(applied).toEqual([committing]);
    expect(pipeline.busy).toBe(false);
  });

  it('a failed save fails the node and sends nothing that rested on it', async () => {
    const storage = new HeldSaves();
    const { pipeline, sent, durable, failures } = pipelineWith(storage);
    pipeline.push(readyOf({ entries: [entry(1)], messagesAfterPersist: [ack(1)] }));
    await turn();
    pipeline.push(readyOf({ messagesAfterPersist: [ack(1)] }));
    storage.complete(new Error('disk gone'));
    await pipeline.idle();
    expect(failures.map((failure) => failure.code)).toEqual(['STORAGE_FAILED']);
    expect(sent).toEqual([]);
    expect(durable).toEqual([]);
  });

  it('after a failed save, idle still waits for the apply under way: storage closes after it', async () => {
    const storage = new HeldSaves();
    const { pipeline, applied, finishApply, failures } = pipelineWith(storage);
    const committing = readyOf({ entries: [entry(2)], committed: [entry(1)] });
    pipeline.push(committing);
    await turn();
    storage.complete();
    await turn();
    pipeline.push(readyOf({ entries: [entry(3)] }));
    await turn();
    storage.complete(new Error('disk gone'));
    await turn();
    expect(failures.map((failure) => failure.code)).toEqual(['STORAGE_FAILED']);
    let idle = false;
    void pipeline.idle().then(() => (idle = true));
    await turn();
    expect(idle).toBe(false);
    finishApply();
    await pipeline.idle();
    expect(applied).toEqual([committing]);
    expect(pipeline.busy).toBe(false);
  });
});

describe('mergeWrites', () => {
  it('keeps what saves one by one would leave: a later suffix replaces an earlier one', () => {
    const merged = mergeWrites([
      readyOf({ entries: [entry(5), entry(6), entry(7)] }),
      readyOf({ hardState: { term: 2, vote: null, commit: 4 } }),
      readyOf({ entries: [entry(6, 2), entry(7, 2)] }),
    ]);
    expect(merged?.entries?.map((saved) => `${saved.index}/${saved.term}`)).toEqual([
      '5/1',
      '6/2',
      '7/2',
    ]);
    expect(merged?.hardState).toEqual({ term: 2, vote: null, commit: 4 });
    expect(mergeWrites([readyOf({}), readyOf({ messagesAfterPersist: [ack(1)] })])).toBeNull();
  });
});

/** A memory storage whose saves wait while `held` is set. */
class GatedStorage extends MemoryStorage {
  held = false;
  #waiting: (() => void)[] = [];

  override async save(batch: SaveBatch): Promise<void> {
    if (this.held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return super.save(batch);
  }

  release(): void {
    this.held = false;
    for (const resume of this.#waiting.splice(0)) resume();
  }
}

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

/** A started 3-node cluster on simulated time whose storages can be held, and every message seen. */
async function gatedCluster(): Promise<{ running: TestCluster; seen: Message[] }> {
  const running = (cluster = new TestCluster({ size: 3 }));
  for (const id of running.ids) running.storages.set(id, new GatedStorage());
  const seen: Message[] = [];
  running.network.setInterceptor((message) => {
    seen.push(message);
    return message;
  });
  await running.start();
  await running.waitForLeader();
  await running.runUntil(() => [...running.nodes.values()].every((node) => node.leaderId !== null));
  return { running, seen };
}

/** Lets `ms` of simulated time pass. */
async function passTime(running: TestCluster, ms: number): Promise<void> {
  const until = running.clock.now() + ms;
  await running.runUntil(() => running.clock.now() >= until, ms + 1000);
}

describe('RaftNode keeps the Ready ordering while it pipelines', () => {
  it('a follower never acknowledges entries before its save of them has completed', async () => {
    const { running, seen } = await gatedCluster();
    const leader = running.leader()!;
    const follower = running.ids.find((id) => id !== leader.id)!;
    const storage = running.storages.get(follower) as GatedStorage;
    const index = leader.status().lastIndex + 1;
    storage.held = true;
    const write = running.propose(leader, 'add:1');
    // The other follower acknowledges, so the write commits without the held one.
    await running.settle(write);
    await running.runUntil(() => running.node(follower).status().lastIndex >= index);
    const acknowledged = (): boolean =>
      seen.some(
        (message) =>
          message.from === follower &&
          message.type === 'append-entries-response' &&
          message.success &&
          message.matchIndex >= index,
      );
    await passTime(running, 200);
    expect(acknowledged()).toBe(false);
    storage.release();
    await running.runUntil(acknowledged);
  });

  it('a vote is granted only once it is durable', async () => {
    const { running, seen } = await gatedCluster();
    const leader = running.leader()!;
    const [voter, candidate] = running.ids.filter((id) => id !== leader.id) as [string, string];
    const storage = running.storages.get(voter) as GatedStorage;
    storage.held = true;
    await running.settle(leader.stop());
    const granted = (): boolean =>
      seen.some(
        (message) =>
          message.from === voter &&
          message.to === candidate &&
          message.type === 'request-vote-response' &&
          !message.preVote &&
          message.granted,
      );
    // Without the held voter the candidate has no majority: nobody leads while the vote waits.
    await passTime(running, 2000);
    expect(granted()).toBe(false);
    expect(running.leader()).toBeNull();
    storage.release();
    await running.runUntil(() => running.leader() !== null);
    expect(granted() || running.node(voter).role === 'leader').toBe(true);
  });
});
