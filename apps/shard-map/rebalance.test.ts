import { describe, expect, it } from 'vitest';
import { rebalance } from './rebalance.js';
import { ShardMapMachine, encodeAssign, shardOf } from './shard-map-machine.js';

describe('rebalance', () => {
  it('spreads an empty map evenly over the live servers', () => {
    const shards = rebalance({ shardCount: 6, current: [], live: ['c', 'a', 'b'] })!;
    const load = new Map<string, number>();
    for (const { primary, replica } of shards) {
      expect(primary).not.toBe(replica);
      for (const id of [primary, replica]) load.set(id, (load.get(id) ?? 0) + 1);
    }
    expect([...load.values()]).toEqual([4, 4, 4]);
  });

  it('keeps live owners, promotes a surviving replica, and refills only the lost slots', () => {
    const current = [
      { primary: 'a', replica: 'b' },
      { primary: 'b', replica: 'c' },
      { primary: 'c', replica: 'a' },
      { primary: 'd', replica: 'a' },
    ];
    const next = rebalance({ shardCount: 4, current, live: ['a', 'c', 'd'] })!;
    expect(next[0]).toEqual({ primary: 'a', replica: 'd' });
    expect(next[1]).toEqual({ primary: 'c', replica: 'd' });
    expect(next.slice(2)).toEqual(current.slice(2));
  });

  it('gives up below two live servers', () => {
    expect(rebalance({ shardCount: 2, current: [], live: ['a'] })).toBeNull();
  });
});

describe('ShardMapMachine', () => {
  it('accepts a map only on top of the epoch it was computed from', () => {
    const machine = new ShardMapMachine(1);
    const first = encodeAssign({ basedOnEpoch: 0, shards: [{ primary: 'a', replica: 'b' }] });
    const stale = encodeAssign({ basedOnEpoch: 0, shards: [{ primary: 'c', replica: 'b' }] });
    expect(machine.apply(first)).toEqual({ accepted: true, epoch: 1 });
    expect(machine.apply(stale)).toEqual({ accepted: false, epoch: 1 });
    expect(machine.apply(new TextEncoder().encode('not json'))).toEqual({
      accepted: false,
      epoch: 1,
    });
    const invalid = encodeAssign({ basedOnEpoch: 1, shards: [{ primary: 'a', replica: 'a' }] });
    expect(machine.apply(invalid).accepted).toBe(false);
    expect(machine.map.shards).toEqual([{ primary: 'a', replica: 'b' }]);
  });

  it('routes a device to the same shard everywhere', () => {
    expect(shardOf('sensor-17', 8)).toBe(shardOf('sensor-17', 8));
    expect(new Set(Array.from({ length: 100 }, (_, n) => shardOf(`d${n}`, 8))).size).toBe(8);
  });
});
