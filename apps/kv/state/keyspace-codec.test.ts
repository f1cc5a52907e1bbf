import { describe, expect, it } from 'vitest';
import { KvHarness, integer, nil, bulk } from './kv-harness.test-helpers.js';

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
});
