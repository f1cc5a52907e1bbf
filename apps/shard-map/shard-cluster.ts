import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StaticDiscovery } from 'raftkit/discovery';
import { ShardServer, type ShardServerOptions } from './shard-server.js';

/** Several shard servers in one process, each with its own TCP transport and log directory. */
export class ShardCluster {
  readonly servers = new Map<string, ShardServer>();
  readonly #discovery = new StaticDiscovery();
  readonly #options: ShardClusterOptions;

  constructor(options: ShardClusterOptions) {
    this.#options = options;
  }

  /** Starts `size` servers, n1…nN, on free ports of 127.0.0.1. */
  async start(): Promise<void> {
    const ids = Array.from({ length: this.#options.size }, (_, position) => `n${position + 1}`);
    for (const id of ids) {
      const directory = join(this.#options.directory, id);
      mkdirSync(directory, { recursive: true });
      const server = new ShardServer({
        ...this.#options.server,
        id,
        members: ids,
        shardCount: this.#options.shardCount,
        directory,
        discovery: this.#discovery,
        clusterId: 'shard-map',
      });
      await server.start();
      this.#discovery.set(id, server.address());
      this.servers.set(id, server);
    }
  }

  /** Servers still running. */
  running(): ShardServer[] {
    return [...this.servers.values()].filter((server) => server.node.running);
  }

  /** The running leader, if one is known. */
  leader(): ShardServer | null {
    return this.running().find((server) => server.node.role === 'leader') ?? null;
  }

  /** Stops one server abruptly, as far as its peers can tell: it simply goes silent. */
  async kill(id: string): Promise<void> {
    await this.servers.get(id)?.stop();
  }

  async stop(): Promise<void> {
    await Promise.all(this.running().map((server) => server.stop()));
  }
}

export interface ShardClusterOptions {
  readonly size: number;
  readonly shardCount: number;
  /** Parent of the servers' log directories. */
  readonly directory: string;
  /** Tuning shared by every server. */
  readonly server?: Partial<
    Pick<ShardServerOptions, 'tickMs' | 'checkIntervalMs' | 'silenceMsMax' | 'recordsPerShardMax'>
  >;
}
