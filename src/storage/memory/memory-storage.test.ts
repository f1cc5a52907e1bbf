import { describe, expect, it } from 'vitest';
import {
  RaftError,
  bootstrapSnapshot,
  configurationOf,
  type Entry,
  type HardState,
} from '../../core/index.js';
import { MemoryStorage } from './memory-storage.js';

const initialHardState: HardState = { term: 0, vote: null, commit: 0 };

function command(index: number, term: number, text: string): Entry {
  return { kind: 'command', index, term, data: new TextEncoder().encode(text) };
}

async function openFresh(options: { manualSync?: boolean } = {}): Promise<MemoryStorage> {
  const storage = new MemoryStorage(options);
  expect(await storage.open()).toBeNull();
  const bootstrapped = storage.bootstrap(
    bootstrapSnapshot(configurationOf(['a'])),
    initialHardState,
  );
  storage.sync();
  await bootstrapped;
  return storage;
}

describe('MemoryStorage durability model', () => {
  it('loses a write whose promise had not resolved when the process crashed', async () => {
    const storage = await openFresh({ manualSync: true });
    const first = storage.save({ entries: [command(1, 1, 'x')] });
    storage.sync();
    await first;
    void storage.save({
      entries: [command(2, 1, 'y')],
      hardState: { term: 1, vote: 'a', commit: 1 },
    });
    expect(await storage.entries(1, 3)).toHaveLength(2);
    expect(storage.pendingWriteCount).toBe(1);

    const restarted = storage.crash();
    const state = await restarted.open();
    expect(state?.lastIndex).toBe(1);
    expect(state?.hardState).toEqual(initialHardState);
    expect(await restarted.entries(1, 2)).toEqual([command(1, 1, 'x')]);
  });

  it('keeps a prefix of the pending steps when asked to, hard state last', async () => {
    const storage = await openFresh({ manualSync: true });
    void storage.save({
      entries: [command(1, 1, 'a'), command(2, 1, 'b'), command(3, 1, 'c')],
      hardState: { term: 1, vote: 'a', commit: 3 },
    });
    expect(storage.pendingStepCount).toBe(4);

    const partial = await storage.crash({ pendingStepsKept: 2 }).open();
    expect(partial).toMatchObject({ lastIndex: 2, hardState: initialHardState });
  });

  it('keeps the hard state of a pending save only together with all its entries', async () => {
    const storage = await openFresh({ manualSync: true });
    void storage.save({
      entries: [command(1, 1, 'a')],
      hardState: { term: 1, vote: 'a', commit: 1 },
    });
    const whole = await storage.crash({ pendingStepsKept: 2 }).open();
    expect(whole).toMatchObject({ lastIndex: 1, hardState: { term: 1, vote: 'a', commit: 1 } });
  });

  it('never settles the pending promises of a crashed instance and refuses further calls', async () => {
    const storage = await openFresh({ manualSync: true });
    let settled = false;
    void storage.save({ entries: [command(1, 1, 'a')] }).finally(() => (settled = true));
    storage.crash();
    storage.sync();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    await expect(storage.entries(1, 1)).rejects.toMatchObject({ code: 'STOPPED' });
    expect(() => storage.crash()).toThrow(RaftError);
  });

  it('rejects a crash that keeps more steps than are pending', async () => {
    const storage = await openFresh({ manualSync: true });
    expect(() => storage.crash({ pendingStepsKept: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('keeps the entries it is given, without a copy, and reads back copies', async () => {
    const storage = await openFresh();
    const saved = command(1, 1, 'a');
    await storage.save({ entries: [saved] });
    expect(storage.durableState.entries[0]).toBe(saved);
    const [read] = await storage.entries(1, 2);
    expect(read).toEqual(saved);
    expect(read).not.toBe(saved);
  });

  it('keeps the synced entries through a pending write that replaces them, until it is synced', async () => {
    const storage = await openFresh({ manualSync: true });
    const old = [command(1, 1, 'a'), command(2, 1, 'b'), command(3, 1, 'c')];
    const first = storage.save({ entries: old });
    storage.sync();
    await first;
    // Pending: one append past the synced log, then a new leader's entries from index 2 on.
    void storage.save({ entries: [command(4, 1, 'd')] });
    void storage.save({ entries: [command(2, 2, 'x'), command(3, 2, 'y')] });
    expect(await storage.entries(1, 4)).toEqual([old[0], command(2, 2, 'x'), command(3, 2, 'y')]);
    expect(storage.durableState.entries).toEqual(old);

    // Keeping the append and the first replacing entry: 1, 2/2 (4 went with the cut).
    const partial = storage.crash({ pendingStepsKept: 2 });
    expect(await partial.open()).toMatchObject({ lastIndex: 2 });
    expect(await partial.entries(1, 3)).toEqual([old[0], command(2, 2, 'x')]);
  });

  it('keeps the synced entries when the first pending write replaces some of them', async () => {
    const storage = await openFresh({ manualSync: true });
    const old = [command(1, 1, 'a'), command(2, 1, 'b'), command(3, 1, 'c')];
    const first = storage.save({ entries: old });
    storage.sync();
    await first;
    // Nothing pending past the synced log: the replacing write is the first one since the sync.
    void storage.save({ entries: [command(2, 2, 'x')] });
    expect(storage.durableState.entries).toEqual(old);
    const restarted = storage.crash();
    expect(await restarted.open()).toMatchObject({ lastIndex: 3 });
    expect(await restarted.entries(1, 4)).toEqual(old);
  });

  it('makes the replacing writes durable in order when synced', async () => {
    const storage = await openFresh({ manualSync: true });
    const first = storage.save({ entries: [command(1, 1, 'a'), command(2, 1, 'b')] });
    storage.sync();
    await first;
    void storage.save({ entries: [command(3, 1, 'c'), command(4, 1, 'd')] });
    void storage.save({ entries: [command(4, 2, 'x')] });
    void storage.save({ entries: [command(2, 3, 'y')] });
    storage.sync();
    const expected = [command(1, 1, 'a'), command(2, 3, 'y')];
    expect(storage.durableState.entries).toEqual(expected);
    void storage.save({ entries: [command(3, 3, 'z')] });
    const restarted = storage.crash();
    expect(await restarted.open()).toMatchObject({ lastIndex: 2 });
    expect(await restarted.entries(1, 3)).toEqual(expected);
  });

  it('makes writes durable on its own when sync is automatic', async () => {
    const storage = await openFresh();
    await storage.save({ entries: [command(1, 1, 'a')] });
    expect(storage.pendingWriteCount).toBe(0);
    expect((await storage.crash().open())?.lastIndex).toBe(1);
  });

  it('fails the next write like a failed fsync, then refuses every write', async () => {
    const storage = await openFresh();
    await storage.save({ entries: [command(1, 1, 'a')] });
    const cause = new Error('disk on fire');
    storage.failNextWrite(cause);

    const failed: unknown = await storage
      .save({ entries: [command(2, 1, 'b')] })
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RaftError);
    expect(failed).toMatchObject({ code: 'STORAGE_FAILED', cause });
    await expect(
      storage.save({ hardState: { term: 2, vote: null, commit: 0 } }),
    ).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
    });
    await expect(storage.compact(bootstrapSnapshot(configurationOf(['a'])))).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
    });
    expect(await storage.entries(1, 2)).toEqual([command(1, 1, 'a')]);
    expect((await storage.crash().open())?.lastIndex).toBe(1);
  });

  it('flushes pending writes on a graceful close', async () => {
    const storage = await openFresh({ manualSync: true });
    const saved = storage.save({ entries: [command(1, 1, 'a')] });
    await storage.close();
    await saved;
    expect((await storage.crash().open())?.lastIndex).toBe(1);
  });

  it('refuses calls before open', async () => {
    const storage = new MemoryStorage();
    await expect(storage.save({})).rejects.toMatchObject({ code: 'INVARIANT' });
  });
});
