import { afterEach, describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import type { SaveBatch } from '../storage/log-storage.js';
import { MemoryStorage } from '../storage/memory/index.js';
import type { ApplyContext } from './state-machine.js';
import { CounterMachine, TestCluster, encode } from './test-cluster.test-helpers.js';

/**
 * Memory storage that records every call made while another is still under way (the LogStorage
 * contract says calls are never concurrent), and whose saves can be held in flight.
 */
class ExclusiveStorage extends MemoryStorage {
  readonly overlaps: string[] = [];
  held = false;
  #active: string | null = null;
  readonly #waiting: (() => void)[] = [];

  get waiting(): number {
    return this.#waiting.length;
  }

  release(): void {
    this.held = false;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  override save(batch: SaveBatch): Promise<void> {
    return this.#exclusive('save', async () => {
      if (this.held) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      await super.save(batch);
    });
  }

  override setBroken(reason: string | null): Promise<void> {
    return this.#exclusive('setBroken', () => super.setBroken(reason));
  }

  async #exclusive(name: string, call: () => Promise<void>): Promise<void> {
    if (this.#active !== null) this.overlaps.push(`${name} during ${this.#active}`);
    this.#active = name;
    try {
      await call();
    } finally {
      this.#active = null;
    }
  }
}

/** A counter whose apply of `fail` settles only when the test says, by throwing. */
class HeldFailureMachine extends CounterMachine {
  failNow: (() => void) | null = null;

  override apply(command: Uint8Array, context: ApplyContext): number {
    if (new TextDecoder().decode(command) !== 'fail')
      return super.apply(command, context) as number;
    const failed = new Promise<number>((_, reject) => {
      this.failNow = () => reject(new Error('injected asynchronous apply failure'));
    });
    // The runtime awaits a promised result; CounterMachine declares only the plain one.
    return failed as unknown as number;
  }
}

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.settle(cluster.stopAll(), 60_000).catch(() => undefined);
  cluster = null;
});

describe('an apply that fails while a save is in flight', () => {
  it('marks storage broken only after the save, never beside it', async () => {
    const running = (cluster = new TestCluster({ size: 1 }));
    const storage = new ExclusiveStorage();
    running.storages.set('n1', storage);
    const machine = new HeldFailureMachine();
    await running.startNode('n1', machine);
    const node = await running.waitForLeader();
    const failing = node.propose(encode('fail')).catch((error: unknown) => error);
    await running.runUntil(() => machine.failNow !== null);
    // The next write is in flight, held, when the apply fails.
    storage.held = true;
    node.propose(encode('add:1')).catch(() => undefined);
    await running.runUntil(() => storage.waiting > 0);
    machine.failNow!();
    const failure = await running.settle(failing);
    expect(failure).toBeInstanceOf(RaftError);
    expect((failure as RaftError).code).toBe('APPLY_FAILED');
    await running.runUntil(() => false, 100).catch(() => undefined);
    storage.release();
    await running.settle(node.stop(), 5000);

    expect(storage.overlaps).toEqual([]);
    // The mark was written all the same: the storage refuses a restart.
    running.nodes.delete('n1');
    const restart = await running.startNode('n1', new CounterMachine()).then(
      () => null,
      (error: unknown) => error,
    );
    expect((restart as RaftError).code).toBe('APPLY_FAILED');
  });
});
