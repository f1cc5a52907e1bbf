import { describe, expect, it } from 'vitest';
import { RaftError } from '../../core/errors.js';
import { checkLinearizability } from './check-linearizability.js';
import {
  append,
  concurrentAppendsThenImpossibleRead,
  failedPut,
  get,
  pendingAppend,
  pendingPut,
  put,
} from './key-value-history.test-helpers.js';
import { keyValueModel, type KeyValueOperation } from './key-value-model.js';
import type { SequentialModel } from './sequential-model.js';

function verdictOf(history: readonly KeyValueOperation[]): string {
  return checkLinearizability(history, keyValueModel).result;
}

describe('checkLinearizability with the key-value model', () => {
  it('accepts an empty history', () => {
    const result = checkLinearizability([], keyValueModel);
    expect(result.result).toBe('linearizable');
    expect(result.partitions).toEqual([]);
  });

  it('rejects a stale read: a read that starts after a write returned must see it', () => {
    const history = [put('x', '1', [0, 1], 1), put('x', '2', [2, 3], 1), get('x', '1', [4, 5], 2)];
    const result = checkLinearizability(history, keyValueModel);
    expect(result.result).toBe('not-linearizable');
    if (result.result !== 'not-linearizable') return;
    expect(result.partition).toBe('x');
    expect(result.explanation.longestPrefix).toEqual([history[0], history[1]]);
    expect(result.explanation.stateAfterPrefix).toEqual(new Map([['x', '2']]));
    expect(result.explanation.candidates).toEqual([history[2]]);
    expect(result.message).toBe(
      [
        'not linearizable: partition "x" (3 operations)',
        'longest valid prefix (2 operations):',
        '  put "x" "1" (process 1, 0..1)',
        '  put "x" "2" (process 1, 2..3)',
        'state after it: "x"="2"',
        'none of these can come next:',
        '  get "x" -> "1" (process 2, 4..5)',
      ].join('\n'),
    );
  });

  it('lists only the last operations of a long prefix', () => {
    const writes = Array.from({ length: 7 }, (_, index) =>
      put('x', String(index), [index * 2, index * 2 + 1], 1),
    );
    const result = checkLinearizability([...writes, get('x', '0', [20, 21], 2)], keyValueModel);
    expect(result.message).toBe(
      [
        'not linearizable: partition "x" (8 operations)',
        'longest valid prefix (7 operations), the last 5:',
        '  put "x" "2" (process 1, 4..5)',
        '  put "x" "3" (process 1, 6..7)',
        '  put "x" "4" (process 1, 8..9)',
        '  put "x" "5" (process 1, 10..11)',
        '  put "x" "6" (process 1, 12..13)',
        'state after it: "x"="6"',
        'none of these can come next:',
        '  get "x" -> "0" (process 2, 20..21)',
      ].join('\n'),
    );
  });

  it('accepts overlapping writes in either order, but nothing they could not produce', () => {
    const writes = [put('x', 'a', [0, 10], 1), put('x', 'b', [1, 9], 2)];
    expect(verdictOf([...writes, get('x', 'a', [11, 12], 3)])).toBe('linearizable');
    expect(verdictOf([...writes, get('x', 'b', [11, 12], 3)])).toBe('linearizable');
    expect(verdictOf([...writes, get('x', 'c', [11, 12], 3)])).toBe('not-linearizable');
  });

  it('accepts concurrent appends read in any one order, and rejects two reads that disagree', () => {
    const appends = [append('x', 'a', [0, 10], 1), append('x', 'b', [0, 10], 2)];
    expect(verdictOf([...appends, get('x', 'ba', [11, 12], 3)])).toBe('linearizable');
    const disagreeing = [...appends, get('x', 'ab', [11, 12], 3), get('x', 'ba', [13, 14], 3)];
    expect(verdictOf(disagreeing)).toBe('not-linearizable');
  });

  it('treats intervals that touch as concurrent, because timestamps are coarse', () => {
    expect(verdictOf([put('x', '1', [0, 5], 1), get('x', '', [5, 6], 2)])).toBe('linearizable');
    expect(verdictOf([put('x', '1', [0, 5], 1), get('x', '', [6, 7], 2)])).toBe('not-linearizable');
  });

  it('lets a pending operation take effect after its call', () => {
    const history = [pendingPut('x', '1', 0, 1), get('x', '1', [5, 6], 2)];
    const result = checkLinearizability(history, keyValueModel);
    expect(result.result).toBe('linearizable');
    if (result.result !== 'linearizable') return;
    expect(result.linearizations.get('x')).toEqual([history[0], history[1]]);
  });

  it('lets a pending operation never take effect (or only after everything observed)', () => {
    // An append that took effect before the last read would show in it.
    const history = [
      pendingAppend('x', 'lost', 0, 1),
      get('x', '', [5, 6], 2),
      append('x', 'a', [7, 8], 2),
      get('x', 'a', [9, 10], 2),
    ];
    const result = checkLinearizability(history, keyValueModel);
    expect(result.result).toBe('linearizable');
    if (result.result !== 'linearizable') return;
    const order = result.linearizations.get('x') ?? [];
    expect(order.slice(0, 3)).toEqual(history.slice(1));
    expect(order.slice(3)).toEqual(order.length === 4 ? [history[0]] : []);
  });

  it('does not let a pending operation take effect before its call', () => {
    expect(verdictOf([get('x', '1', [0, 1], 2), pendingPut('x', '1', 5, 1)])).toBe(
      'not-linearizable',
    );
  });

  it('does not let a pending operation take effect and then be undone', () => {
    const history = [pendingPut('x', '1', 0, 1), get('x', '1', [1, 2], 2), get('x', '', [3, 4], 2)];
    expect(verdictOf(history)).toBe('not-linearizable');
  });

  it('ignores failed operations: they had no effect', () => {
    expect(verdictOf([failedPut('x', '1', [0, 1]), get('x', '', [2, 3])])).toBe('linearizable');
    expect(verdictOf([failedPut('x', '1', [0, 1]), get('x', '1', [2, 3])])).toBe(
      'not-linearizable',
    );
  });

  it('checks keys independently and names the key that failed', () => {
    const history = [
      put('x', '1', [0, 1]),
      put('y', '1', [0, 1]),
      get('x', '1', [2, 3]),
      get('y', '', [2, 3]),
    ];
    const result = checkLinearizability(history, keyValueModel);
    expect(result.result).toBe('not-linearizable');
    if (result.result !== 'not-linearizable') return;
    expect(result.partition).toBe('y');
    expect(result.partitions.map((report) => [report.key, report.verdict])).toEqual([
      ['x', 'linearizable'],
      ['y', 'not-linearizable'],
    ]);
  });

  it('finds a failing key even while another key would take too long to prove', () => {
    const slow = concurrentAppendsThenImpossibleRead('slow', 12);
    const history = [...slow, put('fast', '1', [0, 1]), get('fast', '2', [2, 3])];
    const result = checkLinearizability(history, keyValueModel, { timeBudgetMs: 60_000 });
    expect(result.result).toBe('not-linearizable');
    if (result.result !== 'not-linearizable') return;
    expect(result.partition).toBe('fast');
    expect(result.partitions.find((report) => report.key === 'slow')?.verdict).toBe('unknown');
  });
});

describe('checkLinearizability limits', () => {
  it('answers unknown when the time budget runs out (virtual clock)', () => {
    let nowMs = 0;
    // Every reading of the clock advances it by 1 ms, so the budget runs out after a fixed
    // number of readings whatever the machine's speed.
    const now = () => nowMs++;
    const history = concurrentAppendsThenImpossibleRead('x', 10);
    const result = checkLinearizability(history, keyValueModel, { timeBudgetMs: 5, now });
    expect(result.result).toBe('unknown');
    if (result.result !== 'unknown') return;
    expect(result.reason).toBe('time-budget');
    expect(result.unfinished).toEqual(['x']);
    expect(result.partitions).toEqual([{ key: 'x', operations: 11, verdict: 'unknown' }]);
    expect(result.steps).toBe(5 * 1024);
    expect(result.message).toBe(
      'no verdict: the time budget ran out after 5120 steps, 1 of 1 partitions unfinished',
    );
  });

  it('answers unknown when the time budget runs out (real clock)', () => {
    const history = concurrentAppendsThenImpossibleRead('x', 14);
    const result = checkLinearizability(history, keyValueModel, { timeBudgetMs: 20 });
    expect(result.result).toBe('unknown');
  });

  it('answers unknown when the explored-state cache is full', () => {
    const history = concurrentAppendsThenImpossibleRead('x', 8);
    const result = checkLinearizability(history, keyValueModel, { cacheEntriesMax: 100 });
    expect(result.result).toBe('unknown');
    if (result.result !== 'unknown') return;
    expect(result.reason).toBe('cache-limit');
    expect(result.message).toMatch(/^no verdict: the explored-state cache filled after \d+ steps/);
  });

  it('proves a hard history wrong when given the room', () => {
    const history = concurrentAppendsThenImpossibleRead('x', 6);
    expect(verdictOf(history)).toBe('not-linearizable');
  });

  it('rejects invalid limits and histories with RaftError codes', () => {
    const invalidBudget = () => checkLinearizability([], keyValueModel, { timeBudgetMs: -1 });
    expect(invalidBudget).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    const invalidCache = () => checkLinearizability([], keyValueModel, { cacheEntriesMax: 0 });
    expect(invalidCache).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    const backwards = () => checkLinearizability([get('x', '', [5, 4])], keyValueModel);
    expect(backwards).toThrow(RaftError);
    expect(backwards).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
  });
});

describe('checkLinearizability with a custom model', () => {
  // A register holding a number, hashed coarsely (by parity) so that the checker must use `equal`
  // to tell states apart, and left unpartitioned.
  type RegisterInput = { readonly write: number } | { readonly read: true };
  const registerModel: SequentialModel<number, RegisterInput, number | null> = {
    init: () => 0,
    step: (state, input, output) =>
      'write' in input ? { ok: true, state: input.write } : { ok: output === state, state },
    stepPending: (state, input) => ('write' in input ? input.write : state),
    hash: (state) => String(state % 2),
    equal: (left, right) => left === right,
  };

  it('uses equal to tell apart states whose hashes collide', () => {
    const call = (input: RegisterInput, output: number | null, callTime: number) => ({
      process: 0,
      input,
      status: 'ok' as const,
      output,
      callTime,
      returnTime: callTime + 1,
    });
    const good = [
      call({ write: 2 }, null, 0),
      call({ write: 4 }, null, 2),
      call({ read: true }, 4, 4),
    ];
    expect(checkLinearizability(good, registerModel).result).toBe('linearizable');
    const bad = [
      call({ write: 2 }, null, 0),
      call({ write: 4 }, null, 2),
      call({ read: true }, 2, 4),
    ];
    const result = checkLinearizability(bad, registerModel);
    expect(result.result).toBe('not-linearizable');
    if (result.result !== 'not-linearizable') return;
    expect(result.partition).toBe('all');
    expect(result.message).toContain('state after it: 0');
  });
});
