import { describe, expect, it } from 'vitest';
import type { TraceRow } from './trace-row.js';
import { Tracer } from './tracer.js';

function note(time: number): TraceRow {
  return { time, node: 'n1', event: 'note', message: `row ${time}` };
}

describe('Tracer', () => {
  it('keeps rows in order and returns the last ones', () => {
    const tracer = new Tracer();
    for (let time = 0; time < 5; time++) tracer.record(note(time));
    expect(tracer.rows().map((row) => row.time)).toEqual([0, 1, 2, 3, 4]);
    expect(tracer.last(2).map((row) => row.time)).toEqual([3, 4]);
    expect(tracer.last(10)).toHaveLength(5);
    expect(tracer.last(0)).toEqual([]);
    expect(tracer.size).toBe(5);
    expect(tracer.dropped).toBe(0);
  });

  it('drops and counts the oldest rows beyond rowsMax', () => {
    const tracer = new Tracer({ rowsMax: 3 });
    for (let time = 0; time < 8; time++) tracer.record(note(time));
    expect(tracer.rows().map((row) => row.time)).toEqual([5, 6, 7]);
    expect(tracer.last(2).map((row) => row.time)).toEqual([6, 7]);
    expect(tracer.last(10).map((row) => row.time)).toEqual([5, 6, 7]);
    expect(tracer.size).toBe(3);
    expect(tracer.dropped).toBe(5);
  });

  it('clears rows and the dropped count', () => {
    const tracer = new Tracer({ rowsMax: 2 });
    for (let time = 0; time < 3; time++) tracer.record(note(time));
    tracer.clear();
    expect(tracer.rows()).toEqual([]);
    expect(tracer.dropped).toBe(0);
    tracer.record(note(9));
    tracer.record(note(10));
    tracer.record(note(11));
    expect(tracer.rows().map((row) => row.time)).toEqual([10, 11]);
  });

  it('passes every recorded row to subscribers until they unsubscribe', () => {
    const tracer = new Tracer({ rowsMax: 1 });
    const seen: number[] = [];
    const unsubscribe = tracer.subscribe((row) => seen.push(row.time));
    tracer.record(note(1));
    tracer.record(note(2));
    unsubscribe();
    tracer.record(note(3));
    expect(seen).toEqual([1, 2]);
  });

  it('rejects invalid limits and counts', () => {
    expect(() => new Tracer({ rowsMax: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(() => new Tracer().last(-1)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
