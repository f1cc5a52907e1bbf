import { askLeader, replyText, type KnownMember } from '../cli/cluster-client.js';
import { healCluster, isolateServer } from '../cli/cluster-faults.js';
import { clusterAdd, clusterRemove } from '../cli/cluster-members.js';
import { splitHostPort } from '../kv/cluster-layout.js';
import { snapshotServers } from '../cli/cluster-snapshot.js';
import type { LocalCluster } from '../cli/local-cluster.js';
import type { DashboardAction, DashboardCluster } from './dashboard-server.js';
import { WriteLoad, type WriteLoadSample } from './write-load.js';

/**
 * The dashboard's view of a local cluster (`npm start`): it polls the members of the layout and
 * acts through the same paths as the CLI — the supervisor's processes for stop and start, and the
 * servers' `RAFT` commands for the rest.
 */
export class LocalDashboardCluster implements DashboardCluster {
  readonly #cluster: LocalCluster;
  #load: WriteLoad | null = null;
  readonly actions: Readonly<Record<string, DashboardAction>>;

  constructor(cluster: LocalCluster) {
    this.#cluster = cluster;
    this.actions = {
      stop: (target) => this.#stop(required(target)),
      start: (target) => this.#start(required(target)),
      partition: (target) => isolateServer(this.#known(), required(target)),
      heal: () => healCluster(this.#known()),
      transfer: (target) => this.#transfer(required(target)),
      snapshot: async (target) => (await snapshotServers(this.#known(), target)).join('; '),
      add: () => this.#add(),
      remove: (target) => this.#remove(required(target)),
      'load-start': () => this.#startLoad(),
      'load-stop': () => this.#stopLoad(),
    };
  }

  members(): readonly KnownMember[] {
    return this.#known();
  }

  sampleLoad(atMs: number): WriteLoadSample | null {
    return this.#load?.sample(atMs) ?? null;
  }

  /** Stops the write load, if one runs; the supervisor stops the servers. */
  async close(): Promise<void> {
    await this.#stopLoad();
  }

  #known(): KnownMember[] {
    return this.#cluster.layout.members.map((member) => ({
      id: member.id,
      client: member.client,
      http: member.http,
    }));
  }

  async #stop(id: string): Promise<string> {
    if (!this.#cluster.running().includes(id)) throw new Error(`${id} is not running`);
    await this.#cluster.kill(id, 'SIGTERM');
    return `${id} stopped`;
  }

  async #start(id: string): Promise<string> {
    await this.#cluster.startMember(id);
    return `${id} started`;
  }

  /** `raftkit cluster add`: the same code, so the page and the command line agree. */
  async #add(): Promise<string> {
    const member = await clusterAdd({ directory: this.#cluster.directory, print: () => undefined });
    return `${member.id} added as a voter (redis-cli -p ${splitHostPort(member.client).port})`;
  }

  /** `raftkit cluster remove <id>`. */
  async #remove(id: string): Promise<string> {
    const configuration = await clusterRemove(
      { directory: this.#cluster.directory, print: () => undefined },
      id,
    );
    return `${id} removed: ${configuration}`;
  }

  async #transfer(id: string): Promise<string> {
    return `${replyText(await askLeader(this.#known(), ['RAFT', 'TRANSFER', id]))}: ${id} leads`;
  }

  #startLoad(): Promise<string> {
    if (this.#load !== null) return Promise.resolve('a write load is already running');
    this.#load = new WriteLoad({ servers: this.#known().map((member) => member.client) });
    this.#load.start();
    return Promise.resolve('write load started');
  }

  async #stopLoad(): Promise<string> {
    const load = this.#load;
    if (load === null) return 'no write load runs';
    this.#load = null;
    await load.stop();
    return 'write load stopped';
  }
}

function required(target: string | null): string {
  if (target === null) throw new Error('this action needs a target server');
  return target;
}
