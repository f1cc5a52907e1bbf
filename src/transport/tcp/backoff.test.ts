import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  const options = { delayMsMin: 50, delayMsMax: 1000 };

  it('doubles from the minimum and stops at the cap', () => {
    const upper = [0, 1, 2, 3, 4, 5, 100].map((attempt) =>
      backoffDelayMs(attempt, options, () => 1),
    );
    expect(upper).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps a random half of the delay as jitter', () => {
    expect(backoffDelayMs(2, options, () => 0)).toBe(100);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(150);
    expect(backoffDelayMs(1e9, options, () => 0)).toBe(500);
  });
});
