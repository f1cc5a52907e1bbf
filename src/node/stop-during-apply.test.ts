import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../storage/memory/index.js';
import type { SaveBatch } from '../storage/log-storage.js';
import type { ApplyContext } from './state-machine.js';
import { CounterMachine, TestCluster } from './test-cluster.test-helpers.js';

/** Memory storage whose saves can be held, recording the order of saves and closes. */
class HeldStorage extends MemoryStorage {
  held = false;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly log: string[]) {
    super();
  }

  override async save(batch: SaveBatch): Promise<void> {
    if (this.held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    await super.save(batch);
    this.log.push('save');
  }

  override async close(): Promise<void> {
    this.log.push('close');
    return super.close();
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  release(): void {
    this.held = false;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** A counter whose apply changes the state at once and settles a little later, as async I/O would. */
class SlowSettlingCounter extends CounterMachine {
  constructor(readonly log: string[]) {
    super();
  }

  override apply(command: Uint8Array, context: ApplyContext): number {
    const result = super.apply(command, context);
    const settled = new Promise((resolve) =>
      setImmediate(() => {
        this.log.push(`applied ${context.index}`);
        resolve(result);
      }),
    );
    // The runtime awaits a promised result; CounterMachine declares only the plain one.
    return settled as unknown as number;
  }

  snapshot(): Iterable<Uint8Array> {
    this.log.push(`snapshot ${this.total}`);
    return [new TextEncoder().encode(String(this.total))];
  }

  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    let text = '';
    for await (const chunk of chunks) text += new TextDecoder().decode(chunk);
    this.total = Number(text);
  }
}

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.settle(cluster.stopAll(), 60_000).catch(() => undefined);
  cluster = null;
});

describe('stop while a save is in flight', () => {
  it('applies nothing after the drain ends, so the stop snapshot matches its index', async () => {
    const log: string[] = [];
    const running = (cluster = new TestCluster({
      size: 1,
      extra: () => ({ stopDrainMs: 50, snapshots: { stopEntriesMin: 1, trailingEntries: 0 } }),
    }));
    const storage = new HeldStorage(log);
    running.storages.set('n1', storage);
    await running.startNode('n1', new SlowSettlingCounter(log));
    const leader = await running.waitForLeader();
    await running.settle(running.propose(leader, 'add:1'));
    // The next save hangs past the stop's drain; it completes while the node shuts down.
    storage.held = true;
    running.propose(leader, 'add:10').catch(() => undefined);
    await running.runUntil(() => storage.waiting > 0);
    const stopping = leader.stop();
    await running.runUntil(() => running.clock.now() > 400, 1000).catch(() => undefined);
    storage.release();
    await running.settle(stopping, 5000);
    await running.runUntil(() => false, 200).catch(() => undefined);
    // Nothing reaches the state machine or the storage once it is closed.
    expect(log.slice(log.indexOf('close') + 1)).toEqual([]);

    // Restarted, the node applies each committed entry exactly once on top of its snapshot.
    running.nodes.delete('n1');
    const machine = new SlowSettlingCounter([]);
    const again = await running.startNode('n1', machine);
    await running.runUntil(() => again.role === 'leader');
    await running.runUntil(() => again.status().appliedIndex >= again.status().commitIndex);
    await running.runUntil(() => false, 200).catch(() => undefined);
    expect(machine.total).toBe(11);
  });
});
