import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

function runFixture(name: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [vitest, 'run', name], {
    cwd: fixtures,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CI: 'true' },
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('npm test refuses tests that do not run', () => {
  it('fails a run with a skipped test and names it', () => {
    const { status, output } = runFixture('skipped.fixture.ts');
    expect(status).toBe(1);
    expect(output).toContain('is skipped');
  });

  it('fails a run with a focused test', () => {
    expect(runFixture('focused.fixture.ts').status).toBe(1);
  });

  it('passes a run where every test ran', () => {
    expect(runFixture('clean.fixture.ts').status).toBe(0);
  });
});
