import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkLinearizability } from './check-linearizability.js';
import { keyValueModel, type KeyValueOperation, type KeyValueState } from './key-value-model.js';
import { parseJepsenHistory } from './parse-jepsen-history.js';

// The labelled histories and their source are described in testdata/README.md. A missing file
// must fail this test rather than quietly check nothing.
const testdataUrl = new URL('./testdata/', import.meta.url);
const expectedFiles = [
  'c01-bad.txt',
  'c01-ok.txt',
  'c10-bad.txt',
  'c10-ok.txt',
  'c50-bad.txt',
  'c50-ok.txt',
];
const files = readdirSync(testdataUrl).filter((name) => /-(ok|bad)\.txt$/.test(name));

/**
 * Replays a witness order through the model and checks that it respects real time: no operation
 * comes after one that was called only after it returned. Returns the problems found.
 */
function witnessProblems(order: readonly KeyValueOperation[]): string[] {
  const problems: string[] = [];
  let state: KeyValueState = keyValueModel.init();
  let latestCallTime = -Infinity;
  for (const [position, operation] of order.entries()) {
    if (operation.status === 'ok') {
      const step = keyValueModel.step(state, operation.input, operation.output);
      if (!step.ok) problems.push(`operation ${position} does not fit the state`);
      state = step.state;
      if (operation.returnTime < latestCallTime) problems.push(`operation ${position} is too late`);
    } else {
      state = keyValueModel.stepPending(state, operation.input);
    }
    latestCallTime = Math.max(latestCallTime, operation.callTime);
  }
  return problems;
}

describe('labelled Jepsen key-value histories', () => {
  it('finds every labelled file', () => {
    expect(files).toEqual(expect.arrayContaining(expectedFiles));
  });

  it.each(files)('gives the labelled verdict for %s', (name) => {
    const history = parseJepsenHistory(readFileSync(new URL(name, testdataUrl), 'utf8'));
    expect(history.length).toBeGreaterThan(0);
    // About a second on an idle machine; the generous budget keeps a busy CI machine from turning
    // a slow proof into an 'unknown'.
    const result = checkLinearizability(history, keyValueModel, { timeBudgetMs: 25_000 });
    const expected = name.endsWith('-ok.txt') ? 'linearizable' : 'not-linearizable';
    expect(result.result, result.message).toBe(expected);
    if (result.result === 'linearizable') {
      const problems = [...result.linearizations.values()].flatMap(witnessProblems);
      expect(problems).toEqual([]);
    }
  });
});
