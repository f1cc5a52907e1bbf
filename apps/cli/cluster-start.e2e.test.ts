import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { httpPortOffset, raftPortOffset } from '../kv/cluster-layout.js';
import { sendOnce } from '../kv/resp/resp-client.js';

// `raftkit cluster start` as a user runs it (`npm start` without npm's own start-up): a new
// directory whose ports are taken, a restart with one server whose storage is damaged.

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const directories: string[] = [];
const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface StartedCli {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

function startCli(directory: string, basePort: number): StartedCli {
  const child = spawn(
    process.execPath,
    [
      '--conditions=raftkit-source',
      '--import',
      'tsx',
      'apps/cli/main.ts',
      'cluster',
      'start',
      '--dir',
      directory,
      '--base-port',
      String(basePort),
      '--dashboard-port',
      '0',
    ],
    { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  return { child, output: () => text, exited };
}

async function waitForOutput(cli: StartedCli, pattern: RegExp, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(cli.output())) {
    if (Date.now() > deadline || cli.child.exitCode !== null) {
      throw new Error(`expected ${pattern} in:\n${cli.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A base port whose client, Raft and HTTP ports for three servers are all free right now. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = [0, 1, 2].flatMap((n) => [
      base + n,
      base + raftPortOffset + n,
      base + httpPortOffset + n,
    ]);
    const servers = await Promise.all(ports.map((port) => listen(port).catch(() => null)));
    await Promise.all(servers.flatMap((server) => (server === null ? [] : [close(server)])));
    if (servers.every((server) => server !== null)) return base;
  }
  throw new Error('no free block of ports');
}

async function listen(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function setThrough(port: number, key: string, value: string): Promise<string> {
  const reply = await sendOnce(`127.0.0.1:${port}`, ['SET', key, value], 10_000);
  return reply.type === 'simple' ? reply.value : JSON.stringify(reply);
}

/** Flips bytes early in the server's oldest log segment, with valid records after them. */
function damageLog(serverDirectory: string): string {
  const segments = readdirSync(serverDirectory)
    .map((name) => join(serverDirectory, name))
    .filter((path) => statSync(path).isFile() && statSync(path).size > 4096)
    .sort();
  const target = segments[0];
  if (target === undefined) throw new Error(`no log segment in ${serverDirectory}`);
  const descriptor = openSync(target, 'r+');
  try {
    writeSync(descriptor, Buffer.alloc(64, 0xa5), 0, 64, 256);
  } finally {
    closeSync(descriptor);
  }
  return target;
}

describe('raftkit cluster start', () => {
  it('leaves nothing behind when its ports are taken, so the next start succeeds', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'raftkit-start-'));
    directories.push(directory);
    const basePort = await freeBasePort();
    const blocker = await listen(basePort + raftPortOffset + 1);
    const refused = startCli(directory, basePort);
    expect(await refused.exited, refused.output()).toBe(1);
    expect(refused.output()).toContain(`port ${basePort + raftPortOffset + 1} in use`);
    expect(existsSync(join(directory, 'cluster.json'))).toBe(false);
    await close(blocker);

    const started = startCli(directory, basePort);
    await waitForOutput(started, /leader: n\d/);
    expect(await setThrough(basePort, 'k', 'v')).toBe('OK');
    started.child.kill('SIGINT');
    expect(await started.exited, started.output()).toBe(0);
    expect(existsSync(join(directory, 'cluster.json'))).toBe(true);
  }, 180_000);

  it('reports a server that cannot start with its cause, and the others keep serving', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'raftkit-start-'));
    directories.push(directory);
    const basePort = await freeBasePort();
    const first = startCli(directory, basePort);
    await waitForOutput(first, /leader: n\d/);
    // Enough writes that the third server's log has records after the damage.
    for (let n = 0; n < 200; n++) {
      expect(await setThrough(basePort + (n % 3), `key${n}`, 'x'.repeat(200))).toBe('OK');
    }
    first.child.kill('SIGINT');
    expect(await first.exited, first.output()).toBe(0);
    // Each server recorded its clean stop, which lets the restart vote (and elect) sooner.
    for (const id of ['n1', 'n2', 'n3']) {
      expect(readdirSync(join(directory, id))).toContain('STOPPED'); // docs/storage.md
    }
    damageLog(join(directory, 'n3'));

    const second = startCli(directory, basePort);
    await waitForOutput(second, /leader: n\d/);
    expect(second.output()).toMatch(/not running: n3 exited while starting.*corrupt/i);
    // The majority serves reads and writes; the process keeps running until it is told to stop.
    expect(await setThrough(basePort, 'after', 'restart')).toBe('OK');
    const read = await sendOnce(`127.0.0.1:${basePort + 1}`, ['GET', 'key199'], 10_000);
    expect(read.type === 'bulk' ? read.value?.toString() : null).toBe('x'.repeat(200));
    expect(second.child.exitCode).toBeNull();
    second.child.kill('SIGINT');
    expect(await second.exited, second.output()).toBe(0);
  }, 240_000);
});
