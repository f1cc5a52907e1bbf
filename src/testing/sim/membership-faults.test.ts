import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/random.js';
import type { Configuration } from '../../core/types.js';
import type { FaultWeights } from './fault-plan.js';
import { planMembershipChange } from './membership-faults.js';
import { formatSimReport, runSimulation } from './run-simulation.js';

const pool = ['n1', 'n2', 'n3', 'n4', 'n5'];

function configuration(
  voters: string[],
  learners: string[] = [],
  outgoingVoters: string[] = [],
): Configuration {
  return { voters, learners, outgoingVoters, addresses: {} };
}

/** Membership changes and crashes, often: the changes overlap elections and restarts. */
const membershipAndCrashes: FaultWeights = {
  partition: 0.5,
  oneWayPartition: 0,
  crash: 0.5,
  crashAfterVote: 0.2,
  failedFsync: 0,
  slowDisk: 0,
  networkChange: 0.2,
  isolateLeader: 0.2,
  membership: 2,
};

describe('random membership changes', () => {
  it('are drawn among safe requests: never from a joint configuration, never below two voters', () => {
    const random = seededRandom(5);
    expect(planMembershipChange(random, pool, configuration(['n1'], [], ['n1', 'n2']))).toBeNull();
    const kinds = new Set<string>();
    for (let draw = 0; draw < 200; draw++) {
      const current = configuration(['n1', 'n2'], ['n3']);
      const change = planMembershipChange(random, pool, current)!;
      kinds.add(change.kind);
      expect(change.target.voters.length).toBeGreaterThanOrEqual(2);
      if (change.kind === 'remove') expect(change.id).toBe('n3');
      if (change.kind === 'add-learner') expect(['n4', 'n5']).toContain(change.id);
      if (change.kind === 'promote') expect(change.target.voters).toEqual(['n1', 'n2', 'n3']);
    }
    expect([...kinds].sort()).toEqual(['add-learner', 'joint', 'promote', 'remove']);
  });

  it('interleaved with crashes and partitions, keep every safety property, then every server votes again', async () => {
    let changes = 0;
    for (const seed of [1, 2, 3]) {
      const result = await runSimulation({
        seed,
        fullTrace: true,
        plan: { nodes: 5, weights: membershipAndCrashes, faultIntervalMs: 60, safetyPhaseMs: 2000 },
      });
      expect(result.violations, formatSimReport(result, 60)).toEqual([]);
      changes += result.faults.find(([kind]) => kind === 'membership-change')?.[1] ?? 0;
      const notes = result.traceRows.rows().map((row) => JSON.stringify(row));
      // Changes were made, not only asked for: some reached a new configuration.
      expect(notes.some((row) => row.includes(': now voters'))).toBe(true);
    }
    expect(changes).toBeGreaterThan(10);
  });
});
