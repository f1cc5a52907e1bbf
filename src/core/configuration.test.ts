import { describe, expect, it } from 'vitest';
import { checkTransition, leaveJoint, planChange } from './configuration.js';
import { RaftError } from './errors.js';
import { majoritySize } from './quorum.js';
import { configurationOf, type Configuration } from './types.js';

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof RaftError) return error.code;
    throw error;
  }
  return 'accepted';
}

/** Every subset of `ids`. */
function subsets(ids: readonly string[]): string[][] {
  return Array.from({ length: 2 ** ids.length }, (_, mask) =>
    ids.filter((_, bit) => (mask & (1 << bit)) !== 0),
  );
}

/** Whether some majority of `a` and some majority of `b` share no server. */
function disjointMajoritiesExist(a: readonly string[], b: readonly string[]): boolean {
  return subsets(a).some(
    (left) =>
      left.length >= majoritySize(a.length) &&
      subsets(b).some(
        (right) =>
          right.length >= majoritySize(b.length) && right.every((id) => !left.includes(id)),
      ),
  );
}

describe('§4.1 safe configuration steps', () => {
  const universe = ['1', '2', '3', '4', '5'];
  const voterSets = subsets(universe).filter((set) => set.length > 0);

  it('accepts a plain-to-plain step only when no two majorities can be disjoint', () => {
    let accepted = 0;
    for (const from of voterSets) {
      for (const to of voterSets) {
        const outcome = codeOf(() => checkTransition(configurationOf(from), configurationOf(to)));
        if (outcome === 'accepted') {
          accepted++;
          // "it is not possible for two different leaders to be elected for the same term"
          expect(disjointMajoritiesExist(from, to), `${from.join()} -> ${to.join()}`).toBe(false);
        } else {
          expect(outcome).toBe('UNSAFE_CHANGE');
        }
      }
    }
    expect(accepted).toBeGreaterThan(voterSets.length);
  });

  it('refuses {1,2,3} → {4,5,6} in one step and plans it through a joint configuration', () => {
    const current = configurationOf(['1', '2', '3']);
    expect(codeOf(() => checkTransition(current, configurationOf(['4', '5', '6'])))).toBe(
      'UNSAFE_CHANGE',
    );
    const joint = planChange(current, { voters: ['4', '5', '6'] });
    expect(joint).toMatchObject({ voters: ['4', '5', '6'], outgoingVoters: ['1', '2', '3'] });
    expect(leaveJoint(joint)).toMatchObject({ voters: ['4', '5', '6'], outgoingVoters: [] });
  });

  it('§4.3 a joint configuration can only be left to its incoming half', () => {
    const joint: Configuration = {
      ...configurationOf(['3', '4', '5']),
      outgoingVoters: ['1', '2', '3'],
    };
    expect(codeOf(() => checkTransition(joint, leaveJoint(joint)))).toBe('accepted');
    expect(codeOf(() => checkTransition(joint, configurationOf(['1', '2', '3'])))).toBe(
      'UNSAFE_CHANGE',
    );
    expect(codeOf(() => checkTransition(joint, { ...joint, voters: ['4', '5'] }))).toBe(
      'UNSAFE_CHANGE',
    );
    expect(codeOf(() => planChange(joint, { voters: ['4'] }))).toBe('CHANGE_IN_PROGRESS');
  });

  it('plans a one-voter change in one step and keeps addresses of members only', () => {
    const current = configurationOf(['1', '2', '3'], { addresses: { '1': 'a:1', '3': 'c:3' } });
    const next = planChange(current, {
      voters: ['1', '2'],
      learners: ['4'],
      addresses: { '4': 'd:4' },
    });
    expect(next).toEqual({
      voters: ['1', '2'],
      outgoingVoters: [],
      learners: ['4'],
      addresses: { '1': 'a:1', '4': 'd:4' },
    });
  });

  it('demotes voters to learners through the joint phase: they vote with the outgoing half', () => {
    const current = configurationOf(['1', '2', '3']);
    const joint = planChange(current, { voters: ['1', '4', '5'], learners: ['2', '3'] });
    expect(joint).toMatchObject({ outgoingVoters: ['1', '2', '3'], learners: ['2', '3'] });
    expect(leaveJoint(joint)).toMatchObject({ voters: ['1', '4', '5'], learners: ['2', '3'] });
  });

  it('refuses a change that leaves no voter', () => {
    expect(codeOf(() => planChange(configurationOf(['1']), { voters: [] }))).toBe('UNSAFE_CHANGE');
  });
});
