import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a user gets it: packed from this checkout (which builds it), installed into an
// empty project, then used from plain Node without TypeScript, tsx or vitest.

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, unknown>;
};
/** Packing builds the whole tree; installing may fetch what the local cache lacks. */
const setupMs = 480_000;
/** A full type check or a cluster start on a loaded machine. */
const slowMs = 240_000;

let workspace = '';
let project = '';

async function inProject(
  command: string,
  args: readonly string[],
  timeout = 60_000,
): Promise<{ stdout: string; stderr: string }> {
  return run(command, [...args], { cwd: project, timeout });
}

/** The installed command as npm links it (what `npx raftkit` runs, without npx's start-up). */
function raftkitBin(): string {
  return join(project, 'node_modules/.bin/raftkit');
}

async function node(script: string, type: 'module' | 'commonjs' = 'module') {
  return inProject(process.execPath, [`--input-type=${type}`, '-e', script]);
}

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'raftkit-package-'));
  project = join(workspace, 'project');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workspace], {
    cwd: root,
    timeout: setupMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
  await run('mkdir', ['-p', project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true }),
  );
  // The cache first: fast and works offline when the dependencies are there.
  await inProject(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(workspace, packed!.filename)],
    setupMs,
  );
}, setupMs * 2);

afterAll(() => {
  if (workspace !== '') rmSync(workspace, { recursive: true, force: true });
});

describe('the packed package, installed into an empty project', () => {
  it('imports every subpath from plain Node', async () => {
    const subpaths = Object.keys(manifest.exports)
      .filter((key) => key !== './package.json' && key !== './testing/contracts')
      .map((key) => key.replace(/^\./, 'raftkit'));
    const { stdout } = await node(
      `for (const name of ${JSON.stringify(subpaths)}) {
         const module = await import(name);
         console.log(name, Object.keys(module).length);
       }`,
    );
    for (const name of subpaths) expect(stdout).toMatch(new RegExp(`^${name} [1-9]`, 'm'));
    const { stdout: root } = await node(`const { RaftNode } = await import('raftkit');
      console.log(typeof RaftNode);`);
    expect(root.trim()).toBe('function');
  });

  it('loads raftkit/testing without vitest, which stays an optional peer', async () => {
    await expect(node(`await import('vitest')`)).rejects.toThrow(/Cannot find package 'vitest'/);
    const { stdout } = await node(`const testing = await import('raftkit/testing');
      console.log(typeof testing.SimCluster, typeof testing.checkLinearizability);`);
    expect(stdout.trim()).toBe('function function');
  });

  it('loads from CommonJS through require(esm) where Node has it', async () => {
    const script = `const { RaftNode } = require('raftkit'); console.log(typeof RaftNode);`;
    if (process.features.require_module === true) {
      expect((await node(script, 'commonjs')).stdout.trim()).toBe('function');
    } else {
      await expect(node(script, 'commonjs')).rejects.toThrow(/ERR_REQUIRE_ESM|require\(\)/);
    }
  });

  it('runs the raftkit command as built JavaScript', async () => {
    const help = await inProject('npx', ['--no-install', 'raftkit', '--help']);
    expect(help.stdout).toContain('usage: raftkit <command>');
    const version = await inProject(raftkitBin(), ['--version']);
    expect(version.stdout.trim()).toBe(manifest.version);
    await expect(inProject(raftkitBin(), ['statuss'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown command 'statuss'") as unknown,
    });
  });

  it(
    'type-checks a TypeScript user of every subpath without extra installs',
    async () => {
      const imports = Object.keys(manifest.exports)
        .filter((key) => key !== './package.json' && key !== './testing/contracts')
        .filter((key) => key !== './storage/sqlite')
        .map(
          (key, position) => `import * as module${position} from '${key.replace(/^\./, 'raftkit')}';
console.log(module${position});`,
        );
      writeFileSync(join(project, 'user.ts'), imports.join('\n') + '\n');
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            target: 'es2022',
            strict: true,
            noEmit: true,
            // The shipped declarations themselves are checked, not only the user's file.
            skipLibCheck: false,
          },
          files: ['user.ts'],
        }),
      );
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const result = await inProject(process.execPath, [tsc, '-p', 'tsconfig.json'], slowMs).catch(
        (error: { stdout: string }) => ({ stdout: error.stdout, stderr: '' }),
      );
      expect(result.stdout).toBe('');
    },
    slowMs,
  );

  it(
    'starts a local cluster from the installed command and answers status',
    async () => {
      const directory = join(project, 'data');
      const cluster = spawn(
        raftkitBin(),
        ['cluster', 'start', '--nodes', '1', '--dir', directory],
        {
          cwd: project,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      try {
        let output = '';
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no leader:\n${output}`)), slowMs / 2);
          cluster.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            if (/leader: n1/.test(output)) {
              clearTimeout(timer);
              resolve();
            }
          });
          cluster.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
          cluster.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
        });
        const status = await inProject(raftkitBin(), ['status', '--json', '--dir', directory]);
        const [first] = JSON.parse(status.stdout) as { status: { role: string } }[];
        expect(first!.status.role).toBe('leader');
        const layout = JSON.parse(readFileSync(join(directory, 'cluster.json'), 'utf8')) as {
          members: { http: string }[];
        };
        const health = await fetch(`http://${layout.members[0]!.http}/health`);
        expect(health.status).toBe(200);
      } finally {
        if (cluster.exitCode === null && cluster.signalCode === null) {
          const exited = new Promise((resolve) => cluster.once('exit', resolve));
          cluster.kill('SIGTERM');
          await exited;
        }
      }
    },
    slowMs,
  );
});
