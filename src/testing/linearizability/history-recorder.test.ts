import { describe, expect, it } from 'vitest';
import { checkLinearizability } from './check-linearizability.js';
import { HistoryRecorder } from './history-recorder.js';
import { keyValueModel, type KeyValueInput, type KeyValueOutput } from './key-value-model.js';

function virtualClock(): { now: () => number; advance: (ms: number) => void } {
  let nowMs = 0;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

describe('HistoryRecorder', () => {
  it('stamps calls and returns with the injected clock and keeps call order', () => {
    const clock = virtualClock();
    const recorder = new HistoryRecorder<KeyValueInput, KeyValueOutput>({ now: clock.now });
    const write = recorder.invoke('client-1', { kind: 'put', key: 'x', value: '1' });
    clock.advance(5);
    const read = recorder.invoke('client-2', { kind: 'get', key: 'x' });
    clock.advance(5);
    read.ok('1');
    write.ok(null);
    const refused = recorder.invoke('client-3', { kind: 'put', key: 'x', value: '3' });
    clock.advance(1);
    refused.fail();
    recorder.invoke('client-4', { kind: 'append', key: 'x', value: '4' });
    expect(recorder.size).toBe(4);
    expect(recorder.operations()).toEqual([
      {
        process: 'client-1',
        input: { kind: 'put', key: 'x', value: '1' },
        status: 'ok',
        output: null,
        callTime: 0,
        returnTime: 10,
      },
      {
        process: 'client-2',
        input: { kind: 'get', key: 'x' },
        status: 'ok',
        output: '1',
        callTime: 5,
        returnTime: 10,
      },
      {
        process: 'client-3',
        input: { kind: 'put', key: 'x', value: '3' },
        status: 'fail',
        callTime: 10,
        returnTime: 11,
      },
      {
        process: 'client-4',
        input: { kind: 'append', key: 'x', value: '4' },
        status: 'pending',
        callTime: 11,
      },
    ]);
    expect(checkLinearizability(recorder.operations(), keyValueModel).result).toBe('linearizable');
  });

  it('refuses to complete an operation twice', () => {
    const recorder = new HistoryRecorder<KeyValueInput, KeyValueOutput>();
    const operation = recorder.invoke(1, { kind: 'get', key: 'x' });
    operation.ok('');
    expect(() => operation.fail()).toThrow(expect.objectContaining({ code: 'INVARIANT' }));
  });

  it('throws BUSY past operationsMax instead of dropping history, and clears', () => {
    const recorder = new HistoryRecorder<KeyValueInput, KeyValueOutput>({ operationsMax: 2 });
    recorder.invoke(1, { kind: 'get', key: 'x' });
    recorder.invoke(2, { kind: 'get', key: 'x' });
    expect(() => recorder.invoke(3, { kind: 'get', key: 'x' })).toThrow(
      expect.objectContaining({ code: 'BUSY' }),
    );
    recorder.clear();
    expect(recorder.size).toBe(0);
    expect(recorder.operations()).toEqual([]);
  });

  it('rejects an invalid operationsMax', () => {
    expect(() => new HistoryRecorder({ operationsMax: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
