import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../node/simulated-clock.js';
import { GatedClock } from './gated-clock.js';
import { formatSimReport, runSimulation, type SimRunOptions } from './run-simulation.js';
import type { FaultWeights } from './fault-plan.js';

/** Only the leader-isolation fault, so every fault event cuts a leader off from its followers. */
const onlyLeaderIsolation: FaultWeights = {
  partition: 0,
  oneWayPartition: 0,
  crash: 0,
  crashAfterVote: 0,
  failedFsync: 0,
  slowDisk: 0,
  networkChange: 0,
  isolateLeader: 1,
  membership: 0,
};

async function failedSeeds(options: Omit<SimRunOptions, 'seed'>, seeds: number): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await runSimulation({ seed, ...options });
    if (result.failed) failures.push(formatSimReport(result, 40));
  }
  return failures;
}

describe('simulator faults: leader isolation, clock drift, budgets', () => {
  it('a drifting clock reads and fires at its own rate', () => {
    const simulated = new SimulatedClock();
    const fast = new GatedClock({ inner: simulated, label: 'fast', onFire: () => {}, rate: 1.25 });
    let firedAt = -1;
    fast.schedule(100, () => {
      firedAt = simulated.now();
    });
    expect(simulated.step()).toBe(true);
    expect(firedAt).toBe(80);
    expect(fast.now()).toBe(100);
    expect(
      () => new GatedClock({ inner: simulated, label: 'x', onFire: () => {}, rate: 0 }),
    ).toThrow(RangeError);
  });

  it('isolated leaders with clients reading in every mode, on drifting clocks within the bound, stay safe', async () => {
    const failures = await failedSeeds(
      {
        plan: {
          readPath: 'mixed',
          settings: { preVote: true, checkQuorum: true },
          weights: onlyLeaderIsolation,
          faultIntervalMs: 150,
          clockDriftMax: 0.04,
        },
      },
      4,
    );
    expect(failures, failures.join('\n\n')).toEqual([]);
  });

  it('leader isolation turns some of the leader clients to another server, which answers them', async () => {
    const result = await runSimulation({
      seed: 2,
      fullTrace: true,
      plan: { weights: onlyLeaderIsolation, faultIntervalMs: 150, readPath: 'lease' },
    });
    expect(result.failed, formatSimReport(result, 40)).toBe(false);
    const rows = result.traceRows
      .last(1_000_000)
      .map((row) => ({ ...row, message: row.message ?? '' }));
    const turned = rows.filter(
      (row) => row.event === 'client' && row.message.includes(' turns to '),
    );
    expect(turned.length).toBeGreaterThan(0);
    // Clients that turned away get answers from a server other than the one they left.
    const answeredElsewhere = turned.filter((turn) => {
      const client = turn.message.split(' ')[0]!;
      return rows.some(
        (row) =>
          row.time > turn.time &&
          row.node !== turn.node &&
          row.detail === 'ok' &&
          row.message.startsWith(`${client} `),
      );
    });
    expect(answeredElsewhere.length).toBeGreaterThan(0);
  });

  it('a run over its real-time budget is a reported liveness failure with the replay command', async () => {
    const result = await runSimulation({ seed: 3, wallTimeMsMax: 0 });
    expect(result.failed).toBe(true);
    expect(result.violations.map((violation) => violation.property)).toEqual(['liveness']);
    expect(formatSimReport(result)).toContain('replay: npm run sim -- --seed 3');
  });

  it('a run over its step budget is a reported liveness failure, not a hang', async () => {
    const result = await runSimulation({ seed: 3, stepsMax: 50 });
    expect(result.failed).toBe(true);
    expect(result.violations.map((violation) => violation.property)).toContain('liveness');
    expect(result.steps).toBeLessThanOrEqual(200);
  });
});
