import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../', import.meta.url);

describe('README example: a replicated counter', () => {
  it('is quoted in the README exactly as it is in examples/', () => {
    const example = readFileSync(new URL('examples/replicated-counter.ts', root), 'utf8');
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('runs and prints what its comments say', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--conditions=raftkit-source', '--import', 'tsx', 'examples/replicated-counter.ts'],
      { cwd: root, timeout: 20_000 },
    );
    expect(stdout.trim().split('\n')).toEqual(['5', '8', 'COMMAND_REJECTED', '8']);
  });
});
