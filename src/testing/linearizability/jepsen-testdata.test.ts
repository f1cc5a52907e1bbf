import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkLinearizability } from './check-linearizability.js';
import { keyValueModel } from './key-value-model.js';
import { parseJepsenHistory } from './parse-jepsen-history.js';

// The labelled histories live outside the repository, beside the checkout. A missing directory
// must fail this file rather than quietly check nothing.
const testdataUrl = new URL('../../../../shared/testdata/linearizability/', import.meta.url);
const expectedFiles = [
  'c01-bad.txt',
  'c01-ok.txt',
  'c10-bad.txt',
  'c10-ok.txt',
  'c50-bad.txt',
  'c50-ok.txt',
];
const files = readdirSync(testdataUrl).filter((name) => /-(ok|bad)\.txt$/.test(name));

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
  });
});
