import { describe, expect, it } from 'vitest';
import type { SafetyProperty } from '../checkers/safety-violation.js';
import {
  StaleReadStateMachine,
  eagerCommitInterceptor,
  forgetVoteStorage,
  unsyncedStorage,
} from './injected-bugs.test-helpers.js';
import { runSimulation, type SimRunOptions } from './run-simulation.js';

/**
 * The simulator tested against known bugs, each injected around unchanged raftkit code: a storage
 * adapter that forgets the vote, one that skips the fsync, a leader that tells followers to commit too early (modelled on
 * the wire), and a state machine whose reads are stale. Each must be caught within a few seeds.
 */
async function firstCatch(
  options: Omit<SimRunOptions, 'seed'>,
  seedsMax: number,
): Promise<{ seed: number; properties: SafetyProperty[] } | null> {
  for (let seed = 1; seed <= seedsMax; seed++) {
    const result = await runSimulation({ seed, ...options });
    if (result.failed) {
      return { seed, properties: result.violations.map((violation) => violation.property) };
    }
  }
  return null;
}

describe('simulator self-test: injected bugs are caught', () => {
  it('a storage adapter that forgets the vote (durability: the grant leaves without it on disk)', async () => {
    const caught = await firstCatch(
      {
        wrapStorage: forgetVoteStorage,
        // Elections under partitions with almost no client writes, PreVote and CheckQuorum off to
        // allow more of them. The first grant whose vote is not on disk is caught as it leaves;
        // the double vote it allows later is the scripted scenario in sim-cluster.test.ts.
        plan: {
          nodes: 3,
          clients: 1,
          thinkMsMax: 300,
          inFlightSurvivesCrash: true,
          faultIntervalMs: 60,
          safetyPhaseMs: 3000,
          network: {
            dropRate: 0,
            duplicateRate: 0,
            delayMsMin: 0,
            delayMsMax: 10,
            reorderRate: 0,
            reorderDelayMsMax: 1,
          },
          weights: {
            crash: 0,
            crashAfterVote: 1,
            partition: 1,
            oneWayPartition: 1,
            failedFsync: 0,
            slowDisk: 0,
            networkChange: 0,
            isolateLeader: 0,
            membership: 0,
          },
          settings: { preVote: false, checkQuorum: false },
        },
      },
      20,
    );
    console.log(`forgotten vote caught at seed ${caught?.seed}: ${caught?.properties.join(', ')}`);
    expect(caught?.properties).toContain('durability');
  });

  it('a storage adapter that reports saves done before they are durable (durability)', async () => {
    const caught = await firstCatch({ wrapStorage: unsyncedStorage }, 5);
    console.log(`unsynced saves caught at seed ${caught?.seed}: ${caught?.properties.join(', ')}`);
    expect(caught?.properties).toContain('durability');
  });

  it('followers told to commit what the leader has only sent (state machine safety)', async () => {
    const caught = await firstCatch(
      {
        interceptor: eagerCommitInterceptor,
        // Five nodes: a leader and one follower hold an entry without it being on a majority.
        plan: {
          nodes: 5,
          faultIntervalMs: 80,
          safetyPhaseMs: 1500,
          weights: {
            crash: 1,
            crashAfterVote: 0,
            partition: 1,
            oneWayPartition: 0.5,
            failedFsync: 0,
            slowDisk: 0,
            networkChange: 0,
            isolateLeader: 0,
            membership: 0,
          },
        },
      },
      20,
    );
    console.log(`early commit caught at seed ${caught?.seed}: ${caught?.properties.join(', ')}`);
    expect(caught).not.toBeNull();
    expect(
      caught!.properties.some((property) =>
        [
          'state-machine-safety',
          'leader-completeness',
          'acknowledged-write-lost',
          'linearizability',
        ].includes(property),
      ),
    ).toBe(true);
  });

  it('a state machine whose read path serves stale data (linearizability)', async () => {
    const caught = await firstCatch({ stateMachine: () => new StaleReadStateMachine() }, 5);
    console.log(`stale read caught at seed ${caught?.seed}: ${caught?.properties.join(', ')}`);
    expect(caught?.properties).toContain('linearizability');
  });
});
