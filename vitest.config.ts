import { defineConfig } from 'vitest/config';
import { chromiumPath } from './apps/dashboard/chromium-path.js';
import { NoSkippedTestsReporter } from './scripts/no-skipped-tests-reporter.js';

export default defineConfig({
  // Tests import `raftkit/...` the way users do, resolved to the TypeScript sources (no build).
  resolve: { conditions: ['raftkit-source'] },
  ssr: { resolve: { conditions: ['raftkit-source'], externalConditions: ['raftkit-source'] } },
  test: {
    include: [
      'src/**/*.test.ts',
      'apps/**/*.test.ts',
      'examples/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    // Browser tests run whenever Chromium is installed (`.ci/run` installs it), rather than being
    // reported as skipped on a machine without it.
    exclude: ['**/node_modules/**', ...(chromiumPath() === null ? ['**/*.browser.test.ts'] : [])],
    // A skipped or focused test hides a gap: fail the run rather than report green.
    allowOnly: false,
    reporters: [new NoSkippedTestsReporter(), 'default'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
