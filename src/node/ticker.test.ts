import { describe, expect, it } from 'vitest';
import type { Clock } from '../platform/clock.js';
import { SimulatedClock } from './simulated-clock.js';
import { Ticker } from './ticker.js';

/** A clock whose timers fire `lagMs()` late, like an event loop kept busy by other work. */
function busyClock(clock: SimulatedClock, lagMs: () => number): Clock {
  return {
    now: () => clock.now(),
    schedule: (delayMs, callback) => clock.schedule(delayMs + lagMs(), callback),
  };
}

function ticker(clock: Clock, burstMax = 10) {
  const bursts: number[] = [];
  const ticks = new Ticker({
    clock,
    tickMs: 100,
    burstMax,
    onTicks: (count) => void bursts.push(count),
  });
  return { ticks, bursts, total: () => bursts.reduce((sum, count) => sum + count, 0) };
}

describe('Ticker', () => {
  it('ticks once every tickMs of the clock', () => {
    const clock = new SimulatedClock();
    const { ticks, bursts } = ticker(clock);
    ticks.start();
    clock.advance(1_000);
    expect(bursts).toEqual(Array.from({ length: 10 }, () => 1));
    ticks.stop();
    clock.advance(1_000);
    expect(bursts).toHaveLength(10);
  });

  it('keeps the count in step with the clock when every timer fires late', () => {
    const simulated = new SimulatedClock();
    const { ticks, total } = ticker(busyClock(simulated, () => 60));
    ticks.start();
    simulated.advance(3_000);
    // Each timer fires 60 ms late; without catching up this would be 18 ticks.
    expect(total()).toBeGreaterThanOrEqual(29);
    expect(total()).toBeLessThanOrEqual(30);
  });

  it('runs at most burstMax ticks after a long stall, then goes on at the clock rate', () => {
    const simulated = new SimulatedClock();
    let lag = 5_000;
    const { ticks, bursts } = ticker(
      busyClock(simulated, () => {
        const once = lag;
        lag = 0;
        return once;
      }),
      10,
    );
    ticks.start();
    simulated.advance(5_100);
    expect(bursts).toEqual([10]);
    simulated.advance(300);
    expect(bursts).toEqual([10, 1, 1, 1]);
  });

  it('stops when the ticks stop it', () => {
    const clock = new SimulatedClock();
    const bursts: number[] = [];
    const ticks: Ticker = new Ticker({
      clock,
      tickMs: 100,
      burstMax: 10,
      onTicks: (count) => {
        bursts.push(count);
        ticks.stop();
      },
    });
    ticks.start();
    clock.advance(1_000);
    expect(bursts).toEqual([1]);
  });
});
