import { describe, expect, it } from 'vitest';
import { KvHarness, integer, nil, bulk } from './kv-harness.test-helpers.js';
import { restoreSliceKeys } from './keyspace-restore.js';
import { KvStateMachine } from './kv-state-machine.js';

async function* streamOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

describe('KV state machine snapshot and restore', () => {
  it('restores every value kind, and the same keys expire at the same replicated time', async () => {
    const original = new KvHarness();
    original.write(1000, ['SET', 'short', 'v', 'PX', '500'], ['SET', 'long', 'w', 'PX', '5000']);
    original.write(1001, ['HSET', 'h', 'f', '\u00ff\u0000x'], ['SADD', 's', 'a', 'b']);
    const chunks = original.machine.snapshot();
    // The snapshot is a copy: writes after it do not leak into it.
    original.write(1002, ['SET', 'later', '1']);
    const restored = new KvHarness(original.machine.keyspace.index);
    await restored.machine.restore(streamOf(chunks));
    restored.write(1002, ['SET', 'later', '1']);
    expect(restored.machine.replicatedTimeMs).toBe(original.machine.replicatedTimeMs);
    for (const store of [original, restored]) {
      store.write(1600, ['SET', 'tick', '1']);
      expect(
        store.read(['GET', 'short'], ['GET', 'long'], ['HGET', 'h', 'f'], ['SCARD', 's']),
      ).toEqual([
        nil,
        bulk('w'),
        { type: 'bulk', value: Buffer.from('\u00ff\u0000x') },
        integer(2),
      ]);
      expect(store.machine.expiringKeys).toBe(1);
    }
  });

  it('refuses bytes that are not a keyspace snapshot', async () => {
    const harness = new KvHarness();
    await expect(harness.machine.restore(streamOf([Buffer.from('{"version":9}')]))).rejects.toThrow(
      /version/,
    );
  });

  it('refuses a binary snapshot cut short or followed by stray bytes', async () => {
    const original = new KvHarness();
    original.write(1000, ['SET', 'a', '1'], ['HSET', 'h', 'f', 'v']);
    const bytes = Buffer.concat(original.machine.snapshot());
    const cut = new KvHarness();
    await expect(cut.machine.restore(streamOf([bytes.subarray(0, -3)]))).rejects.toThrow(
      /truncated/,
    );
    const longer = new KvHarness();
    await expect(longer.machine.restore(streamOf([bytes, Buffer.from([0])]))).rejects.toThrow(
      /after its end/,
    );
  });

  it('refuses every cut of an image, whatever field the cut falls in', async () => {
    const original = new KvHarness();
    original.write(
      1000,
      ['SET', 'a', '1', 'PX', '5000'],
      ['HSET', 'h', 'f', 'v', 'g', 'w'],
      ['SADD', 's', 'x', 'y'],
      ['SET', 'gone', '1'],
      ['DEL', 'gone'],
    );
    const bytes = Buffer.concat(original.machine.snapshot());
    const whole = new KvHarness();
    await whole.machine.restore(streamOf([bytes]));
    expect(whole.machine.expiringKeys).toBe(1);
    for (let length = 1; length < bytes.length; length++) {
      const cut = new KvHarness();
      await expect(cut.machine.restore(streamOf([bytes.subarray(0, length)]))).rejects.toThrow(
        /truncated|after its end/,
      );
    }
  });

  it('still reads the JSON format that earlier snapshots were written in', async () => {
    const json = {
      version: 1,
      timeMs: 1000,
      index: 7,
      entries: [
        ['s', { value: { type: 'string', value: 'dg==' }, expiresAtMs: null, modifiedIndex: 5 }],
        ['m', { value: { type: 'set', members: ['x'] }, expiresAtMs: 9000, modifiedIndex: 6 }],
      ],
      tombstones: [['gone', 4]],
      tombstoneFloorIndex: 0,
    };
    const harness = new KvHarness();
    await harness.machine.restore(streamOf([Buffer.from(JSON.stringify(json))]));
    expect(harness.read(['GET', 's'], ['SCARD', 'm'])).toEqual([bulk('v'), integer(1)]);
    expect(harness.machine.expiringKeys).toBe(1);
  });

  describe('keys loaded in the background', () => {
    /** More keys than one slice loads, some with an expiry, plus a hash, a set and a deletion. */
    function largeStore(): KvHarness {
      const store = new KvHarness();
      const keys = restoreSliceKeys * 2 + 17;
      for (let first = 0; first < keys; first += 500) {
        const sets = [];
        for (let key = first; key < Math.min(first + 500, keys); key++) {
          sets.push(
            key % 3 === 0
              ? ['SET', `k${key}`, `v${key}`, 'PX', '60000']
              : ['SET', `k${key}`, `v${key}`],
          );
        }
        store.write(1000, ...sets);
      }
      store.write(1001, ['HSET', 'h', 'f', 'x'], ['SADD', 's', 'a'], ['DEL', 'k1']);
      return store;
    }

    const idle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

    /** Everything a store's keyspace holds, with its keys in a map: their order is not state. */
    function contents(store: KvHarness) {
      const image = store.machine.keyspace.image();
      return { ...image, entries: new Map(image.entries) };
    }

    it('answers with the whole image while its keys are still loading', async () => {
      const original = largeStore();
      const restored = new KvHarness(original.machine.keyspace.index);
      await restored.machine.restore(streamOf(original.machine.snapshot()));
      expect(restored.machine.restoring).toBe(true);
      // The counters come from the checked image, without loading the rest.
      expect(restored.machine.size).toBe(original.machine.size);
      expect(restored.machine.expiringKeys).toBe(original.machine.expiringKeys);
      expect(restored.machine.replicatedTimeMs).toBe(original.machine.replicatedTimeMs);
      expect(restored.machine.restoring).toBe(true);
      const last = `k${original.machine.size}`;
      const reads = [['DBSIZE'], ['GET', 'k0'], ['GET', last], ['GET', 'k1'], ['SCARD', 's']];
      expect(restored.read(...reads)).toEqual(original.read(...reads));
      expect(restored.machine.restoring).toBe(false);
      // A snapshot of the restored store holds what the original does (the order of keys in it
      // may differ: keys used since the restore come first).
      const reloaded = new KvHarness(original.machine.keyspace.index);
      await reloaded.machine.restore(streamOf(restored.machine.snapshot()));
      expect(contents(reloaded)).toEqual(contents(original));
    });

    it('finishes loading by itself, and a write after it expires what the snapshotted store expires', async () => {
      const original = largeStore();
      const restored = new KvHarness(original.machine.keyspace.index);
      await restored.machine.restore(streamOf(original.machine.snapshot()));
      for (let turn = 0; turn < 100 && restored.machine.restoring; turn++) await idle();
      expect(restored.machine.restoring).toBe(false);
      for (const store of [original, restored]) store.write(70_000, ['SET', 'late', '1']);
      expect(restored.read(['DBSIZE'], ['GET', 'k3'], ['GET', 'k4'])).toEqual(
        original.read(['DBSIZE'], ['GET', 'k3'], ['GET', 'k4']),
      );
      expect(restored.machine.expiringKeys).toBe(0);
    });

    it('begins loading in the background only from the moment it is given', async () => {
      const original = largeStore();
      let begin: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (begin = resolve));
      const machine = new KvStateMachine({ backgroundLoadAfter: () => gate });
      const restored = new KvHarness(original.machine.keyspace.index, machine);
      await restored.machine.restore(streamOf(original.machine.snapshot()));
      for (let turn = 0; turn < 20; turn++) await idle();
      expect(restored.machine.restoring).toBe(true);
      begin();
      for (let turn = 0; turn < 100 && restored.machine.restoring; turn++) await idle();
      expect(restored.machine.restoring).toBe(false);
      expect(restored.read(['DBSIZE'])).toEqual(original.read(['DBSIZE']));
    });

    it('an index without a command does not wait for the keys, and later reads cite it', async () => {
      const original = largeStore();
      const restored = new KvHarness(original.machine.keyspace.index);
      await restored.machine.restore(streamOf(original.machine.snapshot()));
      const index = original.machine.keyspace.index + 1;
      restored.machine.skip({ index, term: 2 });
      expect(restored.machine.restoring).toBe(true);
      expect(restored.machine.query({ operations: [[Buffer.from('WATCH')]] })).toEqual(
        Buffer.from(`:${index}\r\n`),
      );
      expect(restored.machine.restoring).toBe(false);
      expect(restored.read(['DBSIZE'])).toEqual(original.read(['DBSIZE']));
    });

    it('a restored key read for the first time keeps its value, expiry and last-write index', async () => {
      const original = largeStore();
      original.write(1002, ['SET', 'k2', 'rewritten']);
      const restored = new KvHarness(original.machine.keyspace.index);
      await restored.machine.restore(streamOf(original.machine.snapshot()));
      for (let turn = 0; turn < 100 && restored.machine.restoring; turn++) await idle();
      const lastWrites = (store: KvHarness) =>
        ['k0', 'k2', 'k4', 'h'].map((key) => store.machine.keyspace.get(key)?.modifiedIndex);
      expect(lastWrites(restored)).toEqual(lastWrites(original));
      expect(new Set(lastWrites(restored)).size).toBeGreaterThan(1);
      const reads = [
        ['PTTL', 'k3'],
        ['TTL', 'k4'],
        ['GET', 'k2'],
        ['STRLEN', 'k5'],
        ['TYPE', 'h'],
      ];
      expect(restored.read(...reads)).toEqual(original.read(...reads));
    });

    it('a restore while another is loading replaces it whole', async () => {
      const first = largeStore();
      const second = new KvHarness();
      second.write(5000, ['SET', 'only', 'this']);
      const restored = new KvHarness(second.machine.keyspace.index);
      await restored.machine.restore(streamOf(first.machine.snapshot()));
      await restored.machine.restore(streamOf(second.machine.snapshot()));
      for (let turn = 0; turn < 10; turn++) await idle();
      expect(restored.read(['DBSIZE'], ['GET', 'only'], ['GET', 'k0'])).toEqual([
        integer(1),
        bulk('this'),
        nil,
      ]);
    });

    it('a damaged image is refused before anything changes', async () => {
      const original = largeStore();
      const bytes = Buffer.concat(original.machine.snapshot());
      const restored = new KvHarness();
      restored.write(1000, ['SET', 'kept', '1']);
      // The last key's value claims a type that does not exist.
      const damaged = Buffer.from(bytes);
      const keyEnd = damaged.lastIndexOf(Buffer.from([1, 0, 0, 0, 's'.charCodeAt(0)])) + 5;
      const typeOffset = keyEnd + 1 + 8 + 8;
      expect(damaged[typeOffset]).toBe(2);
      damaged[typeOffset] = 9;
      await expect(restored.machine.restore(streamOf([damaged]))).rejects.toThrow(
        /unknown value type 9/,
      );
      expect(restored.read(['DBSIZE'], ['GET', 'kept'])).toEqual([integer(1), bulk('1')]);
    });
  });
});
