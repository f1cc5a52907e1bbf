import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readClusterLayout, type ClusterLayout } from '../kv/cluster-layout.js';

/**
 * How to run one server. Built (the installed package), it is plain JavaScript beside this file;
 * from a clone's sources it is TypeScript, run through tsx with the sources' export condition.
 */
function serverCommand(): { readonly prefix: readonly string[]; readonly cwd: string } {
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
/** How long a server may take to stop after SIGTERM before it is killed. */
export const serverStopMsMax = 5000;

/** The layout file inside a cluster's data directory. */
export function layoutPath(directory: string): string {
  return join(directory, 'cluster.json');
}

/** The Raft transport's shared secret inside a cluster's data directory (owner-only). */
export function secretPath(directory: string): string {
  return join(directory, 'raft-secret');
}

/** A layout with a free ephemeral port for every listener (for tests: nothing else is bound). */
export async function freePortLayout(
  nodes: number,
  clusterId = 'raftkit-test',
): Promise<ClusterLayout> {
  const ports: number[] = [];
  for (let count = 0; count < nodes * 3; count++) ports.push(await freePort());
  return {
    clusterId,
    members: Array.from({ length: nodes }, (_, position) => ({
      id: `n${position + 1}`,
      client: `127.0.0.1:${ports[position * 3]}`,
      raft: `127.0.0.1:${ports[position * 3 + 1]}`,
      http: `127.0.0.1:${ports[position * 3 + 2]}`,
    })),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A cluster of key-value server processes on this machine, one child process per member, with
 * its layout file and one data directory per member under `directory`.
 */
export class LocalCluster {
  readonly layout: ClusterLayout;
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
      this.layout = readClusterLayout(file);
    } else {
      writeFileSync(file, JSON.stringify(options.layout, null, 2) + '\n');
      this.layout = options.layout;
    }
    // Each cluster authenticates its Raft traffic with its own secret, so servers of another
    // local cluster that reach these ports are refused even if they share the cluster id.
    if (!existsSync(secretPath(this.#directory))) {
      writeFileSync(secretPath(this.#directory), randomBytes(32).toString('hex') + '\n', {
        mode: 0o600,
      });
    }
    this.#serverArgs = options.serverArgs ?? [];
    this.#output = options.output ?? (() => undefined);
    const sharedLayout = layoutPath(this.#directory);
    this.#memberLayoutPath = options.memberLayoutPath ?? (() => sharedLayout);
  }

  /** Starts every member and waits until each answers PING. */
  async start(): Promise<void> {
    await Promise.all(this.layout.members.map((member) => this.startMember(member.id)));
  }

  /** Starts (or restarts, on its data) one member; resolves once it answers PING. */
  async startMember(id: string): Promise<void> {
    const member = this.layout.members.find((candidate) => candidate.id === id);
    if (member === undefined) throw new Error(`no member ${id}`);
    if (this.#children.has(id)) throw new Error(`${id} is already running`);
    const command = serverCommand();
    const child = spawn(
      process.execPath,
      [
        ...command.prefix,
        '--id',
        id,
        '--layout',
        this.#memberLayoutPath(id),
        '--dir',
        join(this.#directory, id),
        '--secret-file',
        secretPath(this.#directory),
        '--exit-with-parent',
        // A local cluster is for trying things out: the dashboard and `raftkit cluster
        // partition` cut servers off through this.
        '--fault-injection',
        ...this.#serverArgs,
      ],
      { cwd: command.cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#children.set(id, child);
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

  /** The process id of a running member. */
  pid(id: string): number | undefined {
    return this.#children.get(id)?.pid;
  }

  /** Ids of the members whose process is running. */
  running(): string[] {
    return [...this.#children.keys()];
  }

  /** Sends `signal` to one member and waits for it to exit. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#children.get(id);
    if (child === undefined) return;
    await this.#terminate(child, signal);
  }

  /** Stops every member: SIGTERM, then SIGKILL for any that outlasts `serverStopMsMax`. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.#children.values()].map((child) => this.#terminate(child, 'SIGTERM')),
    );
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
