import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readClusterLayout, splitHostPort, type ClusterLayout } from '../kv/cluster-layout.js';
import {
  holdsRaftState,
  runningPid,
  serverStopMsMax,
  stopProcess,
  writeLayoutFile,
  writePid,
} from './member-process.js';

/**
 * How to run one server. Built (the installed package), it is plain JavaScript beside this file;
 * from a clone's sources it is TypeScript, run through tsx with the sources' export condition.
 */
function serverRunner(): { readonly prefix: readonly string[]; readonly cwd: string } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) {
    return {
      prefix: [fileURLToPath(new URL('../kv/main.js', import.meta.url))],
      cwd: process.cwd(),
    };
  }
  // The repository root: tsx resolves from there.
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return {
    prefix: ['--conditions=raftkit-source', '--import', 'tsx', join(root, 'apps/kv/main.ts')],
    cwd: root,
  };
}

/** Lines of a server's output kept to explain why it failed to start. */
const failureLinesMax = 20;

/** How long one server may take to start (tsx compiles on first run) before start fails. */
export const serverStartMsMax = 60_000;
export { serverStopMsMax };

/** The layout file inside a cluster's data directory. */
export function layoutPath(directory: string): string {
  return join(directory, 'cluster.json');
}

/** The Raft transport's shared secret inside a cluster's data directory (owner-only). */
export function secretPath(directory: string): string {
  return join(directory, 'raft-secret');
}

/** How one member's server is started. */
export interface ServerCommandOptions {
  /** The cluster's data directory (absolute). */
  readonly directory: string;
  readonly id: string;
  /** The layout file the server reads; by default the cluster's own. */
  readonly layoutFile?: string;
  /** Start in join mode: ask the other members rather than form a new cluster. */
  readonly join: boolean;
  /** Stop when the launching process goes away (the supervisor of `cluster start`). */
  readonly exitWithParent: boolean;
  readonly serverArgs: readonly string[];
}

/** The command line of one member's server. */
export function serverCommand(options: ServerCommandOptions): {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
} {
  const runner = serverRunner();
  return {
    command: process.execPath,
    args: [
      ...runner.prefix,
      '--id',
      options.id,
      '--layout',
      options.layoutFile ?? layoutPath(options.directory),
      '--dir',
      join(options.directory, options.id),
      '--secret-file',
      secretPath(options.directory),
      ...(options.exitWithParent ? ['--exit-with-parent'] : []),
      ...(options.join ? ['--join'] : []),
      // A local cluster is for trying things out: the dashboard and `raftkit cluster
      // partition` cut servers off through this.
      '--fault-injection',
      ...options.serverArgs,
    ],
    cwd: runner.cwd,
  };
}

/** The extra server arguments of a local cluster, kept so that servers added later match. */
export function serverArgsPath(directory: string): string {
  return join(directory, 'server-args.json');
}

/** The server arguments `cluster start` last ran with (none if it never wrote them). */
export function readServerArgs(directory: string): string[] {
  const file = serverArgsPath(directory);
  if (!existsSync(file)) return [];
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed) || !parsed.every((arg) => typeof arg === 'string')) {
    throw new Error(`${file}: expected a JSON array of strings`);
  }
  return parsed;
}

/**
 * Whether a member must start in join mode: its storage is empty while another member's is not,
 * so the cluster exists already. Bootstrapping it would start a second cluster, or let a member
 * that lost its disk vote again; joining makes the others refuse it (`DATA_LOST`) or take it in.
 */
export function mustJoin(directory: string, layout: ClusterLayout, id: string): boolean {
  if (holdsRaftState(directory, id)) return false;
  return layout.members.some((member) => member.id !== id && holdsRaftState(directory, member.id));
}

/** A layout with a free port for every listener (for tests and added servers). */
export async function freePortLayout(
  nodes: number,
  clusterId = 'raftkit-test',
): Promise<ClusterLayout> {
  const ports = new Set<number>();
  while (ports.size < nodes * 3) ports.add(await freePort(ports));
  const list = [...ports];
  return {
    clusterId,
    members: Array.from({ length: nodes }, (_, position) => ({
      id: `n${position + 1}`,
      client: `127.0.0.1:${list[position * 3]}`,
      raft: `127.0.0.1:${list[position * 3 + 1]}`,
      http: `127.0.0.1:${list[position * 3 + 2]}`,
    })),
  };
}

/** The ports of `layout` that something already listens on. */
export async function busyPorts(layout: ClusterLayout): Promise<number[]> {
  const busy: number[] = [];
  for (const member of layout.members) {
    for (const address of [member.client, member.raft, member.http]) {
      const { host, port } = splitHostPort(address);
      if (!(await portIsFree(host, port))) busy.push(port);
    }
  }
  return busy;
}

/** Whether `port` on `host` can be listened on right now. */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, host);
  try {
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/**
 * Where free ports are looked for: below the range the kernel hands out as the source ports of
 * outgoing connections (32768–60999 on Linux). A port from that range, found free and released,
 * can be taken by any connection before the server binds it; one below it stays free unless
 * something listens on it.
 */
const freePortRange = Object.freeze({ first: 20_000, last: 32_000, attemptsMax: 1_000 });

async function freePort(taken: ReadonlySet<number>): Promise<number> {
  const { first, last, attemptsMax } = freePortRange;
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    const port = first + Math.floor(Math.random() * (last - first));
    if (!taken.has(port) && (await portIsFree('127.0.0.1', port))) return port;
  }
  throw new Error(`no free port between ${first} and ${last} in ${attemptsMax} attempts`);
}

/**
 * A cluster of key-value server processes on this machine, one child process per member, with
 * its layout file and one data directory per member under `directory`.
 */
export class LocalCluster {
  #layout: ClusterLayout;
  readonly #directory: string;
  readonly #serverArgs: readonly string[];
  readonly #output: (line: string) => void;
  readonly #memberLayoutPath: (id: string) => string;
  readonly #children = new Map<string, ChildProcess>();

  constructor(options: {
    readonly directory: string;
    /** Used when the directory holds no layout yet; an existing layout always wins. */
    readonly layout: ClusterLayout;
    /** Extra arguments for every server (`--tick-ms 50`, `--consistency lease`). */
    readonly serverArgs?: readonly string[];
    /** Receives each line the servers print, prefixed with their id. */
    readonly output?: (line: string) => void;
    /**
     * The layout file each member starts with; by default the cluster's own. A fault-injection
     * harness gives each member its own view, with peers behind proxies.
     */
    readonly memberLayoutPath?: (id: string) => string;
  }) {
    this.#directory = resolve(options.directory);
    mkdirSync(this.#directory, { recursive: true });
    const file = layoutPath(this.#directory);
    if (existsSync(file)) {
      this.#layout = readClusterLayout(file);
    } else {
      writeLayoutFile(file, options.layout);
      this.#layout = options.layout;
    }
    // Each cluster authenticates its Raft traffic with its own secret, so servers of another
    // local cluster that reach these ports are refused even if they share the cluster id.
    if (!existsSync(secretPath(this.#directory))) {
      writeFileSync(secretPath(this.#directory), randomBytes(32).toString('hex') + '\n', {
        mode: 0o600,
      });
    }
    this.#serverArgs = options.serverArgs ?? [];
    writeFileSync(serverArgsPath(this.#directory), JSON.stringify(this.#serverArgs) + '\n');
    this.#output = options.output ?? (() => undefined);
    const sharedLayout = layoutPath(this.#directory);
    this.#memberLayoutPath = options.memberLayoutPath ?? (() => sharedLayout);
  }

  /**
   * The members, as the layout file says now: `raftkit cluster add` and `remove`, in another
   * process, change it while the cluster runs.
   */
  get layout(): ClusterLayout {
    try {
      this.#layout = readClusterLayout(layoutPath(this.#directory));
    } catch {
      // Written whole and renamed into place, the file is never half-written; a file removed or
      // broken by hand leaves the last layout read in use.
    }
    return this.#layout;
  }

  /** The cluster's data directory (absolute). */
  get directory(): string {
    return this.#directory;
  }

  /** Starts every member not running yet and waits until each is ready. */
  async start(): Promise<void> {
    const stopped = this.layout.members.filter((member) => !this.isRunning(member.id));
    await Promise.all(stopped.map((member) => this.startMember(member.id)));
  }

  /** Whether `id`'s server runs: a child of this supervisor, or one started detached. */
  isRunning(id: string): boolean {
    return this.#children.has(id) || runningPid(this.#directory, id) !== null;
  }

  /**
   * Starts (or restarts, on its data) one member as a child of this process; resolves once it is
   * ready. A member with empty storage in a cluster that exists starts in join mode.
   */
  async startMember(id: string): Promise<void> {
    const layout = this.layout;
    const member = layout.members.find((candidate) => candidate.id === id);
    if (member === undefined) throw new Error(`no member ${id}`);
    if (this.isRunning(id)) throw new Error(`${id} is already running`);
    const command = serverCommand({
      directory: this.#directory,
      id,
      layoutFile: this.#memberLayoutPath(id),
      join: mustJoin(this.#directory, layout, id),
      exitWithParent: true,
      serverArgs: this.#serverArgs,
    });
    const child = spawn(command.command, command.args, {
      cwd: command.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.set(id, child);
    if (child.pid !== undefined) {
      mkdirSync(join(this.#directory, id), { recursive: true });
      writePid(this.#directory, id, child.pid);
    }
    const recentLines: string[] = [];
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => {
        rejectReady(new Error(`${id} did not start within ${serverStartMsMax} ms`));
      }, serverStartMsMax);
      const forward = (chunk: Buffer): void => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.length === 0) continue;
          this.#output(`[${id}] ${line}`);
          recentLines.push(line);
          if (recentLines.length > failureLinesMax) recentLines.shift();
          // The server prints this once its listeners are bound: a PING could be answered by
          // some other process on the port, this line only by the child itself.
          if (line === `${id} ready`) {
            clearTimeout(timer);
            resolveReady();
          }
        }
      };
      child.stdout?.on('data', forward);
      child.stderr?.on('data', forward);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.#children.get(id) === child) this.#children.delete(id);
        this.#output(`[${id}] exited (${signal ?? `code ${code}`})`);
        const cause = recentLines.slice(-3);
        rejectReady(
          new Error(
            `${id} exited while starting (${signal ?? `code ${code}`})` +
              (cause.length === 0 ? '' : `: ${cause.join(' / ')}`),
          ),
        );
      });
    });
    try {
      await ready;
    } catch (error) {
      await this.#terminate(child, 'SIGKILL');
      throw error;
    }
  }

  /** The process id of a running member, a child or one started detached. */
  pid(id: string): number | undefined {
    return this.#children.get(id)?.pid ?? runningPid(this.#directory, id) ?? undefined;
  }

  /** Ids of the members whose process is running, children or detached. */
  running(): string[] {
    const detached = this.layout.members
      .map((member) => member.id)
      .filter((id) => !this.#children.has(id) && runningPid(this.#directory, id) !== null);
    return [...this.#children.keys(), ...detached];
  }

  /** Sends `signal` to one member, a child or one started detached, and waits for it to exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#children.get(id);
    if (child !== undefined) {
      await this.#terminate(child, signal);
      return;
    }
    const pid = runningPid(this.#directory, id);
    if (pid === null) return;
    if (signal !== 'SIGTERM') process.kill(pid, signal);
    await stopProcess(pid);
  }

  /**
   * Stops every member: SIGTERM, then SIGKILL for any that outlasts `serverStopMsMax`. Members
   * started detached (by `raftkit cluster add` or `start-node`) are stopped through their pid files.
   */
  async stop(): Promise<void> {
    const detached = this.layout.members
      .filter((member) => !this.#children.has(member.id))
      .map((member) => runningPid(this.#directory, member.id))
      .filter((pid) => pid !== null);
    await Promise.all([
      ...[...this.#children.values()].map((child) => this.#terminate(child, 'SIGTERM')),
      ...detached.map((pid) => stopProcess(pid)),
    ]);
  }

  async #terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), serverStopMsMax);
    await exited;
    clearTimeout(timer);
  }
}
