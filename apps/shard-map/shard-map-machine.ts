import type { StateMachine } from 'raftkit';

/** Which two servers hold one shard. */
export interface ShardOwners {
  /** Takes the writes of the shard's devices first. */
  readonly primary: string;
  /** Holds a second copy, so the shard survives the loss of either server. */
  readonly replica: string;
}

/** The whole map at one point of the log. */
export interface ShardMap {
  /** Counts accepted map changes; 0 until the first assignment. */
  readonly epoch: number;
  /** Owners per shard number; empty until the first assignment. */
  readonly shards: readonly ShardOwners[];
}

/**
 * The one command: replace the map, if it is still the map the proposer looked at. The epoch check
 * makes two concurrent rewrites (an old leader's and a new one's) safe: the later one, computed
 * from a map that no longer exists, is refused by every server alike.
 */
export interface AssignCommand {
  readonly basedOnEpoch: number;
  readonly shards: readonly ShardOwners[];
}

/** What applying an assignment returns to its proposer. */
export interface AssignResult {
  readonly accepted: boolean;
  readonly epoch: number;
}

export function encodeAssign(command: AssignCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}

/**
 * The replicated shard map: a tiny state machine whose every server holds the same map after the
 * same log entry. Listeners hear about each accepted change as it is applied.
 */
export class ShardMapMachine implements StateMachine<AssignResult, 'map', ShardMap> {
  readonly #shardCount: number;
  #map: ShardMap = { epoch: 0, shards: [] };
  readonly #listeners = new Set<(map: ShardMap) => void>();

  constructor(shardCount: number) {
    this.#shardCount = shardCount;
  }

  get map(): ShardMap {
    return this.#map;
  }

  /** Calls `listener` with each newly applied map; returns the unsubscribe function. */
  onChange(listener: (map: ShardMap) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  apply(command: Uint8Array): AssignResult {
    const parsed = parseAssign(command, this.#shardCount);
    // A refused command changes nothing on any server: the decision depends only on the log.
    if (parsed === null || parsed.basedOnEpoch !== this.#map.epoch) {
      return { accepted: false, epoch: this.#map.epoch };
    }
    this.#map = { epoch: this.#map.epoch + 1, shards: parsed.shards };
    for (const listener of this.#listeners) listener(this.#map);
    return { accepted: true, epoch: this.#map.epoch };
  }

  query(): ShardMap {
    return this.#map;
  }
}

function parseAssign(bytes: Uint8Array, shardCount: number): AssignCommand | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  const command = value as Partial<AssignCommand> | null;
  if (typeof command?.basedOnEpoch !== 'number' || !Array.isArray(command.shards)) return null;
  if (command.shards.length !== shardCount) return null;
  const shards: ShardOwners[] = [];
  for (const owners of command.shards as unknown[]) {
    const { primary, replica } = (owners ?? {}) as Partial<ShardOwners>;
    if (typeof primary !== 'string' || typeof replica !== 'string' || primary === replica) {
      return null;
    }
    shards.push({ primary, replica });
  }
  return { basedOnEpoch: command.basedOnEpoch, shards };
}

/** The shard a device's records belong to (FNV-1a of its id): the same on every server. */
export function shardOf(deviceId: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < deviceId.length; position++) {
    hash ^= deviceId.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}
