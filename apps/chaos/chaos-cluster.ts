import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalCluster, freePortLayout } from '../cli/local-cluster.js';
import type { ClusterLayout } from '../kv/cluster-layout.js';
import { sendOnce } from '../kv/resp/resp-client.js';
import type { StatusDocument } from '../kv/server/status-document.js';
import { ProxyNetwork } from './proxy-network.js';

/** The part of a server's `RAFT STATUS` that says who leads and how far it has applied. */
export type ServerStatus = Pick<
  StatusDocument,
  'id' | 'role' | 'term' | 'leaderId' | 'appliedIndex' | 'commitIndex'
>;

const run = promisify(execFile);

/** How long a status or administration request may take before the server counts as silent. */
const adminRequestTimeoutMs = 1000;

/** A server that exited without the harness asking it to. */
export interface UnexpectedExit {
  readonly id: string;
  readonly reason: string;
  readonly atNs: number;
}

/**
 * A local key-value cluster of real processes for fault injection: every server reaches its peers
 * through a {@link ProxyNetwork}, writes its output to `logs/<id>.log`, and can be killed, paused,
 * resumed and restarted. Exits the harness did not cause are remembered as findings.
 */
export class ChaosCluster {
  readonly layout: ClusterLayout;
  readonly network: ProxyNetwork;
  readonly #cluster: LocalCluster;
  readonly #logs = new Map<string, WriteStream>();
  readonly #paused = new Set<string>();
  /** Servers the harness is killing or stopping: their exits are expected. */
  readonly #expectedExits = new Set<string>();
  readonly #unexpectedExits: UnexpectedExit[] = [];
  /** Snapshots the servers reported installing (from a leader), from their log lines. */
  #snapshotsInstalled = 0;
  readonly #now: () => number;

  private constructor(options: {
    readonly layout: ClusterLayout;
    readonly directory: string;
    readonly serverArgs: readonly string[];
    readonly now: () => number;
  }) {
    this.layout = options.layout;
    this.#now = options.now;
    this.network = new ProxyNetwork(options.layout);
    const dataDirectory = join(options.directory, 'data');
    const logDirectory = join(options.directory, 'logs');
    mkdirSync(logDirectory, { recursive: true });
    mkdirSync(dataDirectory, { recursive: true });
    for (const member of options.layout.members) {
      this.#logs.set(member.id, createWriteStream(join(logDirectory, `${member.id}.log`)));
    }
    this.#cluster = new LocalCluster({
      directory: dataDirectory,
      layout: options.layout,
      serverArgs: options.serverArgs,
      memberLayoutPath: (id) => join(dataDirectory, `layout-${id}.json`),
      output: (line) => this.#record(line),
    });
  }

  /** Lays out `servers` servers on free loopback ports, with their proxies started. */
  static async create(options: {
    readonly servers: number;
    readonly directory: string;
    readonly serverArgs: readonly string[];
    readonly now: () => number;
  }): Promise<ChaosCluster> {
    const layout = await freePortLayout(options.servers, 'raftkit-chaos');
    const cluster = new ChaosCluster({ ...options, layout });
    await cluster.network.start();
    const dataDirectory = join(options.directory, 'data');
    for (const member of layout.members) {
      const view = cluster.network.layoutFor(member.id);
      writeFileSync(join(dataDirectory, `layout-${member.id}.json`), JSON.stringify(view, null, 2));
    }
    return cluster;
  }

  get ids(): string[] {
    return this.layout.members.map((member) => member.id);
  }

  clientAddress(id: string): string {
    const member = this.layout.members.find((candidate) => candidate.id === id);
    if (member === undefined) throw new Error(`no server ${id}`);
    return member.client;
  }

  /** Exits nobody asked for, so far. */
  /** Snapshots installed by followers that had fallen behind the leader's log. */
  get snapshotsInstalled(): number {
    return this.#snapshotsInstalled;
  }

  get unexpectedExits(): readonly UnexpectedExit[] {
    return this.#unexpectedExits;
  }

  /**
   * Starts the servers one after another: five compiling at once on a busy two-core machine can
   * each take longer than a server may take to start.
   */
  async start(): Promise<void> {
    // All at once: a member started after another has written its first state would find the
    // cluster existing and, having empty storage itself, ask to join instead of bootstrapping.
    await this.#cluster.start();
  }

  /** Servers whose process runs (paused ones included). */
  running(): string[] {
    return this.#cluster.running();
  }

  paused(): string[] {
    return [...this.#paused];
  }

  async kill(id: string): Promise<void> {
    this.#expectedExits.add(id);
    this.#paused.delete(id);
    await this.#cluster.kill(id, 'SIGKILL');
    this.#expectedExits.delete(id);
  }

  async restart(id: string): Promise<void> {
    await this.#cluster.startMember(id);
  }

  pause(id: string): void {
    this.#signal(id, 'SIGSTOP');
    this.#paused.add(id);
  }

  resume(id: string): void {
    this.#signal(id, 'SIGCONT');
    this.#paused.delete(id);
  }

  /** Resumes paused servers and starts every server that is not running. */
  async reviveAll(): Promise<void> {
    for (const id of this.#paused) this.resume(id);
    const running = new Set(this.running());
    await Promise.all(this.ids.filter((id) => !running.has(id)).map((id) => this.restart(id)));
  }

  /** Stops every server gracefully, then the proxies, and closes the logs. */
  async stop(): Promise<void> {
    for (const id of this.#paused) this.resume(id);
    for (const id of this.ids) this.#expectedExits.add(id);
    await this.#cluster.stop();
    await this.network.stop();
    await Promise.all(
      [...this.#logs.values()].map(
        (log) => new Promise<void>((resolve) => log.end(() => resolve())),
      ),
    );
  }

  /** One server's status, or null when it does not answer in time. */
  async status(id: string): Promise<ServerStatus | null> {
    try {
      const reply = await sendOnce(
        this.clientAddress(id),
        ['RAFT', 'STATUS'],
        adminRequestTimeoutMs,
      );
      if (reply.type !== 'bulk' || reply.value === null) return null;
      return JSON.parse(reply.value.toString('utf8')) as ServerStatus;
    } catch {
      return null;
    }
  }

  /** The leader of the newest term among the servers that answer, or null when none claims it. */
  async leader(): Promise<string | null> {
    const statuses = await Promise.all(
      this.running()
        .filter((id) => !this.#paused.has(id))
        .map((id) => this.status(id)),
    );
    const leaders = statuses.filter((status) => status?.role === 'leader');
    const newest = leaders.sort((left, right) => right!.term - left!.term)[0];
    return newest?.id ?? null;
  }

  /** Sends one administration command to `id`; resolves with the reply as text. */
  async command(id: string, args: readonly string[], timeoutMs: number): Promise<string> {
    const reply = await sendOnce(this.clientAddress(id), args, timeoutMs);
    if (reply.type === 'error') return `(error) ${reply.message}`;
    if (reply.type === 'simple') return reply.value;
    if (reply.type === 'bulk') return reply.value?.toString('utf8') ?? '(nil)';
    if (reply.type === 'integer') return String(reply.value);
    return JSON.stringify(reply.value);
  }

  /**
   * Makes every write of `id` to a file fail with EFBIG, as a full disk would, by lowering its
   * file-size limit to zero (`prlimit`, util-linux; no privileges needed for one's own processes).
   * The server is expected to stop on the storage failure, so its exit is not a finding.
   */
  async failDisk(id: string): Promise<void> {
    const pid = this.#cluster.pid(id);
    if (pid === undefined) throw new Error(`${id} is not running`);
    this.#expectedExits.add(id);
    await run('prlimit', ['--pid', String(pid), '--fsize=0']);
  }

  /** Undoes {@link failDisk}: lifts the limit, or restarts the server if it stopped. */
  async repairDisk(id: string): Promise<void> {
    const pid = this.#cluster.pid(id);
    if (pid !== undefined) await run('prlimit', ['--pid', String(pid), '--fsize=unlimited']);
    this.#expectedExits.delete(id);
    if (pid === undefined) await this.restart(id);
  }

  #signal(id: string, signal: NodeJS.Signals): void {
    const pid = this.#cluster.pid(id);
    if (pid === undefined) throw new Error(`${id} is not running`);
    process.kill(pid, signal);
  }

  #record(line: string): void {
    const match = /^\[([^\]]+)\] (.*)$/.exec(line);
    if (match === null) return;
    const [, id, text] = match as unknown as [string, string, string];
    // Stamped on the history's clock, so a log line can be matched with the operations around it.
    this.#logs.get(id)?.write(`${(this.#now() / 1e6).toFixed(1)}ms ${text}\n`);
    if (text.includes('snapshot installed')) this.#snapshotsInstalled++;
    const exit = /^exited \((.*)\)$/.exec(text);
    if (exit !== null && !this.#expectedExits.has(id)) {
      this.#unexpectedExits.push({ id, reason: exit[1]!, atNs: this.#now() });
    }
  }
}
