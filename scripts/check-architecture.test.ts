import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, 'check-architecture.mjs');
let root: string | null = null;

/** A repository of the given files (path -> content) on disk, checked by the script. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  root = mkdtempSync(join(tmpdir(), 'raftkit-architecture-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

const tree = {
  'src/core/index.ts': "export * from './log.js';\n",
  'src/core/log.ts': 'export const log = 1;\n',
  'src/node/node.ts': "import { log } from '../core/index.js';\nexport const node = log;\n",
};

afterEach(() => {
  if (root !== null) rmSync(root, { recursive: true, force: true });
  root = null;
});

describe('the architecture check', () => {
  it('passes a tree with the core at the bottom', () => {
    expect(check(tree)).toMatchObject({ status: 0 });
  });

  it('fails an import up the tree', () => {
    const result = check({
      ...tree,
      'src/core/up.ts': "import { node } from '../node/node.js';\n",
    });
    expect(result.status).toBe(1);
    expect(result.output).toContain('src/core may not import src/node');
  });

  it('fails a runtime file that reaches past the core index', () => {
    const result = check({
      ...tree,
      'src/node/deep.ts': "import { log } from '../core/log.js';\n",
    });
    expect(result.status).toBe(1);
    expect(result.output).toContain('import core/index.js only');
  });

  it('fails an import cycle and names its files', () => {
    const result = check({
      ...tree,
      'src/core/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'src/core/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
    });
    expect(result.status).toBe(1);
    expect(result.output).toContain('import cycle: src/core/a.ts <-> src/core/b.ts');
  });

  it('fails a file past the length limit and warns past the soft one', () => {
    const long = (lines: number) => 'export const x = 1;\n'.repeat(lines);
    expect(check({ ...tree, 'src/core/long.ts': long(450) })).toMatchObject({ status: 0 });
    expect(check({ ...tree, 'src/core/long.ts': long(450) }).output).toContain('warning');
    expect(check({ ...tree, 'src/core/long.ts': long(701) }).status).toBe(1);
    expect(check({ ...tree, 'src/node/long.ts': long(501) }).status).toBe(1);
  });

  it('fails an exported default[A-Z] constant anywhere, and passes a <thing>Defaults object', () => {
    const loose = check({
      ...tree,
      'apps/kv/limits.ts': 'export const defaultQueueMax = 8;\n',
    });
    expect(loose.status).toBe(1);
    expect(loose.output).toContain('apps/kv/limits.ts exports defaultQueueMax');
    const scheme = check({
      ...tree,
      'src/core/limits.ts':
        'export const queueDefaults = Object.freeze({ queueMax: 8 });\nconst defaultUser = 1;\n',
    });
    expect(scheme).toMatchObject({ status: 0 });
  });

  it('fails a benchmark that imports the sources instead of the package', () => {
    const bad = check({ ...tree, 'bench/run.ts': "import { log } from '../src/core/index.js';\n" });
    expect(bad.status).toBe(1);
    expect(bad.output).toContain("imports the package by name ('raftkit/...')");
    const good = check({
      ...tree,
      'apps/kv/index.ts': 'export const client = 1;\n',
      'bench/run.ts':
        "import { client } from '../apps/kv/index.js';\nimport { x } from './x.js';\n",
      'bench/x.ts': 'export const x = 1;\n',
    });
    expect(good).toMatchObject({ status: 0 });
  });
});
