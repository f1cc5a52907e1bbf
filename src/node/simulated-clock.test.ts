import { describe, expect, it } from 'vitest';
import { SimulatedClock } from './simulated-clock.js';

describe('SimulatedClock', () => {
  it('fires timers in deadline order, equal deadlines in scheduling order', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    clock.schedule(20, () => fired.push('b'));
    clock.schedule(10, () => fired.push('a'));
    clock.schedule(20, () => fired.push('c'));
    const cancelled = clock.schedule(15, () => fired.push('x'));
    cancelled.cancel();
    expect(clock.advance(25)).toBe(3);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(25);
  });

  it('fires timers scheduled by callbacks inside the window', () => {
    const clock = new SimulatedClock(100);
    const times: number[] = [];
    clock.schedule(5, () => {
      times.push(clock.now());
      clock.schedule(5, () => times.push(clock.now()));
    });
    clock.advance(10);
    expect(times).toEqual([105, 110]);
    expect(clock.pendingCount).toBe(0);
    expect(clock.step()).toBe(false);
  });

  it('orders a thousand random timers like a sort would', () => {
    const clock = new SimulatedClock();
    const fired: number[] = [];
    const delays = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 97);
    delays.forEach((delay, i) => clock.schedule(delay, () => fired.push(i)));
    clock.advance(100);
    const expected = delays
      .map((delay, i) => ({ delay, i }))
      .sort((a, b) => a.delay - b.delay || a.i - b.i)
      .map(({ i }) => i);
    expect(fired).toEqual(expected);
  });
});
