import { describe, expect, it } from 'vitest';
import { DeadlineSignals } from './deadline-signals.js';

describe('DeadlineSignals', () => {
  it('hands every deadline of one slice the same signal, and a later slice its own', () => {
    let now = 1000;
    const signals = new DeadlineSignals(20, () => now);
    const first = signals.until(5000);
    expect(signals.until(5019)).toBe(first);
    expect(signals.until(5020)).not.toBe(first);
    expect(first.aborted).toBe(false);
    // Once a slice has begun, its deadlines get a fresh signal (the old one is aborting).
    now = 5001;
    expect(signals.until(5010)).not.toBe(first);
  });

  it('aborts no later than the deadline', async () => {
    const signals = new DeadlineSignals(20);
    const signal = signals.until(performance.now() + 30);
    const aborted = new Promise<unknown>((resolve) =>
      signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
    );
    const bound = new Promise((resolve) => setTimeout(() => resolve('not aborted'), 5000));
    expect(await Promise.race([aborted, bound])).toMatchObject({ name: 'TimeoutError' });
  });
});
