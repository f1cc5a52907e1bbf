import { RaftError, RaftNode } from 'raftkit';
import type { StaticDiscovery } from 'raftkit/discovery';
import { FileStorage } from 'raftkit/storage/file';
import { TcpTransport } from 'raftkit/transport/tcp';
import { FailureDetector } from './failure-detector.js';
import { rebalance, sameShards } from './rebalance.js';
import {
  ShardMapMachine,
  encodeAssign,
  shardOf,
  type AssignResult,
  type ShardMap,
} from './shard-map-machine.js';

/** One record a device sends. */
export interface DeviceRecord {
  readonly deviceId: string;
  readonly payload: string;
}

/** How to run one server of the shard-map example. */
export interface ShardServerOptions {
  readonly id: string;
  /** Every server's id (the Raft voters and the candidates for shard ownership). */
  readonly members: readonly string[];
  readonly shardCount: number;
  /** Where this server's Raft log lives. */
  readonly directory: string;
  /** Resolves the other servers' Raft addresses. */
  readonly discovery: StaticDiscovery;
  readonly clusterId: string;
  /** Raft listen address; port 0 picks a free one. Default `127.0.0.1:0`. */
  readonly listen?: string;
  /** Milliseconds per Raft tick. Default 50. */
  readonly tickMs?: number;
  /** How often the leader samples liveness and checks the map. Default 2 ticks. */
  readonly checkIntervalMs?: number;
  /** A server unheard of for this long is taken as down. Default 3 election timeouts. */
  readonly silenceMsMax?: number;
  /** Records kept per owned shard; the oldest go first. Default 1,000. */
  readonly recordsPerShardMax?: number;
}

/**
 * A storage server for device streams. It stores the records of the shards the map gives it, and
 * takes part in the Raft cluster that holds that map. Its leader watches the other servers and,
 * when one goes silent, writes a new map into the log; every server learns the new map as the
 * entry is applied.
 */
export class ShardServer {
  readonly node: RaftNode<AssignResult, 'map', ShardMap>;
  readonly machine: ShardMapMachine;
  readonly #options: ShardServerOptions;
  readonly #transport: TcpTransport;
  readonly #detector: FailureDetector;
  readonly #records = new Map<number, DeviceRecord[]>();
  readonly #mapListeners = new Set<(map: ShardMap) => void>();
  #seenEpoch = 0;
  #timer: NodeJS.Timeout | null = null;
  #proposing = false;

  constructor(options: ShardServerOptions) {
    this.#options = options;
    const tickMs = options.tickMs ?? 50;
    this.machine = new ShardMapMachine(options.shardCount);
    this.#transport = new TcpTransport({
      clusterId: options.clusterId,
      discovery: options.discovery,
      listen: options.listen ?? '127.0.0.1:0',
      reconnectDelayMsMin: 20,
      reconnectDelayMsMax: 500,
    });
    this.node = new RaftNode({
      id: options.id,
      storage: new FileStorage({ directory: options.directory }),
      transport: this.#transport,
      stateMachine: this.machine,
      initialConfiguration: options.members,
      // Liveness comes from CheckQuorum's per-peer activity marks; keep it on.
      initialSettings: { checkQuorum: true, preVote: true },
      tickMs,
    });
    this.#detector = new FailureDetector({ silenceMsMax: options.silenceMsMax ?? tickMs * 30 });
    // Every server, leader or not, learns about a new map when its entry is applied here.
    this.node.on('applied', () => this.#onApplied());
  }

  get id(): string {
    return this.#options.id;
  }

  /** The map as of the last entry applied here. */
  get map(): ShardMap {
    return this.machine.map;
  }

  /** The Raft address once started. */
  address(): string {
    const address = this.#transport.address();
    if (address === null) throw new Error(`${this.id} is not listening`);
    return `${address.host}:${address.port}`;
  }

  /** Calls `listener` with each new map this server applies. */
  onMap(listener: (map: ShardMap) => void): () => void {
    this.#mapListeners.add(listener);
    return () => this.#mapListeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.node.start();
    const intervalMs = this.#options.checkIntervalMs ?? (this.#options.tickMs ?? 50) * 2;
    this.#timer = setInterval(() => this.#check(), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.node.stop();
  }

  /** Stores a record if this server owns its shard; false tells the device to ask for the map. */
  ingest(record: DeviceRecord): boolean {
    const shard = shardOf(record.deviceId, this.#options.shardCount);
    const owners = this.map.shards[shard];
    if (owners?.primary !== this.id && owners?.replica !== this.id) return false;
    const records = this.#records.get(shard) ?? [];
    records.push(record);
    const recordsMax = this.#options.recordsPerShardMax ?? 1000;
    if (records.length > recordsMax) records.splice(0, records.length - recordsMax);
    this.#records.set(shard, records);
    return true;
  }

  /** Records held for `shard`. */
  records(shard: number): readonly DeviceRecord[] {
    return this.#records.get(shard) ?? [];
  }

  #onApplied(): void {
    const map = this.machine.map;
    if (map.epoch === this.#seenEpoch) return;
    this.#seenEpoch = map.epoch;
    // Shards this server no longer owns are dropped; their owners hold the stream from now on.
    for (const shard of [...this.#records.keys()]) {
      const owners = map.shards[shard];
      if (owners?.primary !== this.id && owners?.replica !== this.id) this.#records.delete(shard);
    }
    for (const listener of this.#mapListeners) listener(map);
  }

  /** The leader's duty: keep two live owners on every shard. */
  #check(): void {
    const live = this.#detector.sample(this.node.status(), Date.now());
    if (live === null || this.#proposing) return;
    const current = this.machine.map;
    const desired = rebalance({
      shardCount: this.#options.shardCount,
      current: current.shards,
      live,
    });
    if (desired === null || sameShards(desired, current.shards)) return;
    this.#proposing = true;
    this.node
      .propose(encodeAssign({ basedOnEpoch: current.epoch, shards: desired }))
      .catch((error: unknown) => {
        // Lost leadership or a timeout: the next check starts again from the applied map.
        if (!(error instanceof RaftError)) throw error;
      })
      .finally(() => {
        this.#proposing = false;
      });
  }
}
