import { describe, expect, it } from 'vitest';
import { RandomDriver } from '../testing/script/random-driver.js';

const seedsPerSize = 200;
const stepsPerRun = 400;
const settleTicksMax = 200;

/**
 * Runs one seed: a safety phase with faults, checked after every step, then a liveness phase.
 * Returns the read answers the checkers judged, to show the read property was exercised.
 */
function runSeed(voters: number, seed: number): number {
  const driver = new RandomDriver({ voters, seed });
  const fail = (phase: string, step: number, error: unknown): never => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `seed ${seed} (${voters} servers, ${JSON.stringify(driver.settings)}), ${phase} step ${step}: ${reason}\n` +
        `recent transcript:\n${driver.transcript()}`,
      { cause: error },
    );
  };
  for (let step = 1; step <= stepsPerRun; step++) {
    try {
      driver.step();
      driver.cluster.check();
    } catch (error) {
      fail('safety', step, error);
    }
  }
  try {
    driver.settle(settleTicksMax);
    driver.cluster.check();
  } catch (error) {
    fail('liveness', 0, error);
  }
  return driver.cluster.checkers.readIndex.answered;
}

describe('randomized safety: faults drawn from a seed, Raft’s properties checked after every step', () => {
  for (const voters of [3, 5]) {
    it(`${voters} servers, ${seedsPerSize} seeds: safe throughout, then a proposal commits everywhere once healed`, () => {
      let readsJudged = 0;
      for (let seed = 1; seed <= seedsPerSize; seed++) readsJudged += runSeed(voters, seed);
      expect(readsJudged).toBeGreaterThan(seedsPerSize);
    });
  }
});
