import { defineConfig } from 'vitest/config';
import { NoSkippedTestsReporter } from './scripts/no-skipped-tests-reporter.js';

export default defineConfig({
  resolve: { conditions: ['raftkit-source'] },
  test: {
    include: [
      'src/**/*.test.ts',
      'apps/**/*.test.ts',
      'examples/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    // A skipped or focused test hides a gap: fail the run rather than report green.
    allowOnly: false,
    reporters: [new NoSkippedTestsReporter(), 'default'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
