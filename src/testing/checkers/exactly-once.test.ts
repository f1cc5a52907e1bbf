import { describe, expect, it } from 'vitest';
import { ExactlyOnceChecker } from './exactly-once.js';
import { ViolationLog } from './safety-violation.js';
import type { AppliedRecord } from './state-machine-safety.js';

function committed(...commands: (string | null)[]): Map<number, AppliedRecord> {
  return new Map(
    commands.map((command, position) => [
      position + 1,
      { index: position + 1, term: 1, command, firstNodeId: 'n1' },
    ]),
  );
}

describe('§6.3 exactly-once checker', () => {
  it('reports a session command applied from two entries', () => {
    const log = new ViolationLog(() => 0);
    const checker = new ExactlyOnceChecker(log);
    checker.track('x', 'c1 append a=c1.1');
    checker.checkFinal(committed('x', null, 'x'));
    expect(log.violations.map((violation) => violation.property)).toEqual(['exactly-once']);
    expect(log.violations[0]!.message).toMatch(/c1 append a=c1.1 was applied twice, at 1 and at 3/);
  });

  it('accepts copies answered from the session table, and commands it does not track', () => {
    const log = new ViolationLog(() => 0);
    const checker = new ExactlyOnceChecker(log);
    checker.track('x', 'c1 append a=c1.1');
    // The retried copy was skipped (no command reached the state machine at index 2).
    checker.checkFinal(committed('x', null, 'y', 'y'));
    expect(log.violations).toEqual([]);
  });
});
