import type { Reporter, TestModule } from 'vitest/node';

/**
 * Fails the run when any test was skipped or left as a todo: a test that does not run hides a gap,
 * and a green summary must mean every test ran. (Focused tests are refused by `allowOnly: false`.)
 */
export class NoSkippedTestsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        const state = testCase.result().state;
        if (state === 'skipped') skipped.push(`${testModule.moduleId}: ${testCase.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    process.exitCode = 1;
    process.stderr.write(
      `\n${skipped.length} test(s) skipped; every test must run:\n${skipped.map((line) => `  ${line}`).join('\n')}\n`,
    );
  }
}
