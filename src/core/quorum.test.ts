import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jointActive,
  jointIndex,
  jointVote,
  majorityIndex,
  majoritySize,
  majorityVote,
  type VoteOutcome,
} from './quorum.js';

// Naive versions, written from the definitions rather than from the implementation: a majority is
// "more than half", compared literally with size / 2, and every answer is found by brute force.

function naiveMajorityIndex(voters: readonly string[], indexOf: (id: string) => number): number {
  if (voters.length === 0) return Infinity;
  const highest = Math.max(...voters.map(indexOf));
  for (let candidate = highest; candidate > 0; candidate--) {
    const holding = voters.filter((id) => indexOf(id) >= candidate).length;
    if (holding > voters.length / 2) return candidate;
  }
  return 0;
}

function naiveJointIndex(
  voters: readonly string[],
  outgoingVoters: readonly string[],
  indexOf: (id: string) => number,
): number {
  if (voters.length === 0 && outgoingVoters.length === 0) return Infinity;
  const all = [...voters, ...outgoingVoters];
  const highest = Math.max(...all.map(indexOf));
  const holds = (set: readonly string[], candidate: number): boolean =>
    set.length === 0 || set.filter((id) => indexOf(id) >= candidate).length > set.length / 2;
  for (let candidate = highest; candidate > 0; candidate--) {
    if (holds(voters, candidate) && holds(outgoingVoters, candidate)) return candidate;
  }
  return 0;
}

/** Wins when more than half said yes; an empty set asks nothing of anyone. */
function naiveWins(voters: readonly string[], yes: (id: string) => boolean): boolean {
  return voters.length === 0 || voters.filter(yes).length > voters.length / 2;
}

/**
 * Decides by trying every way the missing votes could still go: won if the campaign wins even if
 * they all say no, lost if it loses even if they all say yes, pending otherwise.
 */
function naiveJointVote(
  voters: readonly string[],
  outgoingVoters: readonly string[],
  voteOf: (id: string) => boolean | undefined,
): VoteOutcome {
  const missing = [...new Set([...voters, ...outgoingVoters])].filter(
    (id) => voteOf(id) === undefined,
  );
  let someWin = false;
  let someLoss = false;
  for (let mask = 0; mask < 1 << missing.length; mask++) {
    const completed = (id: string): boolean => {
      const position = missing.indexOf(id);
      return position < 0 ? voteOf(id) === true : (mask & (1 << position)) !== 0;
    };
    if (naiveWins(voters, completed) && naiveWins(outgoingVoters, completed)) someWin = true;
    else someLoss = true;
  }
  if (!someLoss) return 'won';
  if (!someWin) return 'lost';
  return 'pending';
}

const pool = ['1', '2', '3', '4', '5', '6', '7', '8'];

/** A voter set of 0 to 7 distinct ids. */
const voterSet = fc.uniqueArray(fc.constantFrom(...pool), { maxLength: 7 });
/** An acknowledged index per id. */
const indexes = fc.dictionary(fc.constantFrom(...pool), fc.nat({ max: 12 }));
/** A vote per id: granted, rejected, or not yet in. */
const votes = fc.dictionary(
  fc.constantFrom(...pool),
  fc.constantFrom<boolean | undefined>(true, false, undefined),
);

const lookupIndex =
  (table: Record<string, number>) =>
  (id: string): number =>
    table[id] ?? 0;
const lookupVote =
  (table: Record<string, boolean | undefined>) =>
  (id: string): boolean | undefined =>
    table[id];

describe('majority arithmetic against a naive version', () => {
  it('majoritySize is the smallest count above half', () => {
    for (let size = 1; size <= 9; size++) {
      const smallest = Array.from({ length: size + 1 }, (_, count) => count).find(
        (count) => count > size / 2,
      );
      expect(majoritySize(size), `size ${size}`).toBe(smallest);
    }
  });

  it('majorityIndex is the largest index more than half of the voters hold', () => {
    fc.assert(
      fc.property(voterSet, indexes, (voters, table) => {
        expect(majorityIndex(voters, lookupIndex(table))).toBe(
          naiveMajorityIndex(voters, lookupIndex(table)),
        );
      }),
      { numRuns: 1000, seed: 1 },
    );
  });

  it('majorityVote wins above half, loses when half can no longer be passed', () => {
    fc.assert(
      fc.property(voterSet, votes, (voters, table) => {
        expect(majorityVote(voters, lookupVote(table))).toBe(
          naiveJointVote(voters, [], lookupVote(table)),
        );
      }),
      { numRuns: 1000, seed: 2 },
    );
  });

  it('jointIndex is the largest index both halves hold by a majority', () => {
    fc.assert(
      fc.property(voterSet, voterSet, indexes, (voters, outgoing, table) => {
        expect(jointIndex({ voters, outgoingVoters: outgoing }, lookupIndex(table))).toBe(
          naiveJointIndex(voters, outgoing, lookupIndex(table)),
        );
      }),
      { numRuns: 1000, seed: 3 },
    );
  });

  it('jointVote needs both halves, and is lost as soon as either half is', () => {
    fc.assert(
      fc.property(voterSet, voterSet, votes, (voters, outgoing, table) => {
        expect(jointVote({ voters, outgoingVoters: outgoing }, lookupVote(table))).toBe(
          naiveJointVote(voters, outgoing, lookupVote(table)),
        );
      }),
      { numRuns: 1000, seed: 4 },
    );
  });

  it('jointActive holds when the active members are more than half of each half', () => {
    fc.assert(
      fc.property(
        voterSet,
        voterSet,
        fc.uniqueArray(fc.constantFrom(...pool)),
        (voters, outgoing, active) => {
          const isActive = (id: string): boolean => active.includes(id);
          expect(jointActive({ voters, outgoingVoters: outgoing }, isActive)).toBe(
            naiveWins(voters, isActive) && naiveWins(outgoing, isActive),
          );
        },
      ),
      { numRuns: 1000, seed: 5 },
    );
  });
});

describe('even-sized clusters: a quorum of 4 is 3, never 2 (exactly half is not a majority)', () => {
  const four = ['1', '2', '3', '4'];

  it('majoritySize(4) is 3 and majoritySize(6) is 4', () => {
    expect(majoritySize(4)).toBe(3);
    expect(majoritySize(6)).toBe(4);
    expect(majoritySize(2)).toBe(2);
  });

  it('an index held by 2 of 4 voters is not a majority index', () => {
    const held: Record<string, number> = { '1': 7, '2': 7, '3': 0, '4': 0 };
    expect(majorityIndex(four, lookupIndex(held))).toBe(0);
    held['3'] = 7;
    expect(majorityIndex(four, lookupIndex(held))).toBe(7);
  });

  it('2 grants of 4 do not win: pending while 2 are out, lost once they say no', () => {
    expect(majorityVote(four, lookupVote({ '1': true, '2': true }))).toBe('pending');
    expect(majorityVote(four, lookupVote({ '1': true, '2': true, '3': false, '4': false }))).toBe(
      'lost',
    );
    expect(majorityVote(four, lookupVote({ '1': true, '2': true, '3': true }))).toBe('won');
  });

  it('2 active of 4 is not a quorum for CheckQuorum', () => {
    const sets = { voters: four, outgoingVoters: [] };
    expect(jointActive(sets, (id) => id === '1' || id === '2')).toBe(false);
    expect(jointActive(sets, (id) => id !== '4')).toBe(true);
  });

  it('a joint configuration of 4 old and 2 new voters needs 3 of the old and both new', () => {
    const sets = { voters: ['5', '6'], outgoingVoters: four };
    const held: Record<string, number> = { '1': 9, '2': 9, '3': 1, '4': 1, '5': 9, '6': 9 };
    expect(jointIndex(sets, lookupIndex(held))).toBe(1);
    held['3'] = 9;
    expect(jointIndex(sets, lookupIndex(held))).toBe(9);
  });
});
