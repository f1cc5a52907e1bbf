import { describe, expect, it } from 'vitest';
import { Inflights } from './inflights.js';

describe('Inflights: the window of unacknowledged appends to one follower', () => {
  it('is full once it holds the maximum number of messages', () => {
    const window = new Inflights(3, 1_000_000);
    window.add(1, 10);
    window.add(2, 10);
    expect(window.full).toBe(false);
    window.add(3, 10);
    expect(window.full).toBe(true);
    expect(window.count).toBe(3);
  });

  it('refuses a message beyond the maximum rather than growing', () => {
    const window = new Inflights(2, 1_000_000);
    window.add(1, 1);
    window.add(2, 1);
    expect(() => window.add(3, 1)).toThrow(RangeError);
    expect(window.count).toBe(2);
  });

  it('is full once the bytes in flight reach the byte limit, however few the messages', () => {
    const window = new Inflights(100, 250);
    window.add(1, 100);
    window.add(2, 100);
    expect(window.full).toBe(false);
    window.add(3, 50);
    expect(window.bytes).toBe(250);
    expect(window.full).toBe(true);
  });

  it('a single message larger than the byte limit fills the window alone', () => {
    const window = new Inflights(100, 250);
    window.add(1, 1000);
    expect(window.count).toBe(1);
    expect(window.full).toBe(true);
  });

  it('freeTo releases every message up to an index and keeps the later ones', () => {
    const window = new Inflights(5, 1000);
    window.add(3, 10);
    window.add(6, 20);
    window.add(9, 40);
    window.freeTo(7);
    expect(window.count).toBe(1);
    expect(window.bytes).toBe(40);
    window.freeTo(8);
    expect(window.count).toBe(1);
    window.freeTo(9);
    expect(window.count).toBe(0);
    expect(window.bytes).toBe(0);
  });

  it('freeTo below the oldest message releases nothing', () => {
    const window = new Inflights(5, 1000);
    window.add(5, 10);
    window.freeTo(4);
    expect(window.count).toBe(1);
  });

  it('freeFirst releases exactly the oldest message', () => {
    const window = new Inflights(3, 1000);
    window.add(2, 10);
    window.add(4, 20);
    window.add(6, 30);
    expect(window.full).toBe(true);
    window.freeFirst();
    expect(window.count).toBe(2);
    expect(window.bytes).toBe(50);
    expect(window.full).toBe(false);
  });

  it('freeFirst on an empty window does nothing', () => {
    const window = new Inflights(3, 1000);
    window.freeFirst();
    expect(window.count).toBe(0);
    expect(window.bytes).toBe(0);
  });

  it('reset empties the window', () => {
    const window = new Inflights(2, 1000);
    window.add(1, 10);
    window.add(2, 10);
    window.reset();
    expect(window.count).toBe(0);
    expect(window.bytes).toBe(0);
    expect(window.full).toBe(false);
    window.add(3, 10);
    window.add(4, 10);
    expect(window.full).toBe(true);
  });

  it('keeps order across many wrap-arounds of its ring', () => {
    const window = new Inflights(3, 1_000_000);
    let next = 1;
    let acknowledged = 0;
    for (let round = 0; round < 50; round++) {
      while (!window.full) window.add(next++, 1);
      // Acknowledge two of the three in flight; the third stays across the wrap.
      acknowledged += 2;
      window.freeTo(acknowledged);
      expect(window.count).toBe(next - 1 - acknowledged);
      expect(window.bytes).toBe(window.count);
    }
  });
});
