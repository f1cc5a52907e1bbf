import type { ShardOwners } from './shard-map-machine.js';

/**
 * The map that keeps every shard on two live servers while moving as little as possible: owners
 * that are alive keep their shards (a surviving replica becomes primary when the primary died) and
 * each empty slot goes to the live server holding the fewest shards (ties by id). Pure and
 * deterministic. Returns null when fewer than two servers are alive.
 */
export function rebalance(options: {
  readonly shardCount: number;
  readonly current: readonly ShardOwners[];
  readonly live: readonly string[];
}): ShardOwners[] | null {
  const live = [...new Set(options.live)].sort();
  if (live.length < 2) return null;
  const load = new Map(live.map((id) => [id, 0]));
  const alive = (id: string | undefined): id is string => id !== undefined && load.has(id);
  const kept = Array.from({ length: options.shardCount }, (_, shard) => {
    const owners = options.current[shard];
    const survivors = [owners?.primary, owners?.replica].filter(alive);
    for (const id of survivors) load.set(id, load.get(id)! + 1);
    return survivors;
  });
  const leastLoaded = (exclude: string | undefined): string => {
    let best: string | null = null;
    for (const id of live) {
      if (id === exclude) continue;
      if (best === null || load.get(id)! < load.get(best)!) best = id;
    }
    load.set(best!, load.get(best!)! + 1);
    return best!;
  };
  return kept.map((survivors) => {
    const primary = survivors[0] ?? leastLoaded(undefined);
    const replica = survivors[1] ?? leastLoaded(primary);
    return { primary, replica };
  });
}

/** Whether two maps assign every shard the same way. */
export function sameShards(left: readonly ShardOwners[], right: readonly ShardOwners[]): boolean {
  return (
    left.length === right.length &&
    left.every(
      (owners, shard) =>
        owners.primary === right[shard]!.primary && owners.replica === right[shard]!.replica,
    )
  );
}
