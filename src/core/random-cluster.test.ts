import { describe, expect, it } from 'vitest';
import { RandomDriver } from '../testing/script/random-driver.js';
import { SafetyViolationError } from '../testing/checkers/safety-violation.js';
import { ReadIndexChecker } from '../testing/script/read-checker.js';
import { SafetyChecker, viewsOf, type ServerView } from '../testing/script/safety-checker.js';
import { command } from './raft-core.test-helpers.js';
import type { Entry } from './types.js';

const seedsPerSize = 200;
const stepsPerRun = 400;
const settleTicksMax = 200;

/** Runs one seed: a safety phase with faults, checked after every step, then a liveness phase. */
function runSeed(voters: number, seed: number): void {
  const driver = new RandomDriver({ voters, seed });
  const checker = new SafetyChecker();
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
      checker.check(viewsOf(driver.cluster), driver.cluster.mailbox);
    } catch (error) {
      fail('safety', step, error);
    }
  }
  try {
    driver.settle(settleTicksMax);
    checker.check(viewsOf(driver.cluster), driver.cluster.mailbox);
  } catch (error) {
    fail('liveness', 0, error);
  }
}

describe('randomized safety: faults drawn from a seed, Raft’s properties checked after every step', () => {
  for (const voters of [3, 5]) {
    it(`${voters} servers, ${seedsPerSize} seeds: safe throughout, then a proposal commits everywhere once healed`, () => {
      for (let seed = 1; seed <= seedsPerSize; seed++) runSeed(voters, seed);
    });
  }
});

/**
 * A view with the given log, all of it on disk; the rest is filled in so only the log matters.
 * `durable` overrides parts of what the disk holds.
 */
function view(
  id: string,
  entries: Entry[],
  overrides: Partial<Omit<ServerView, 'durable'>> & {
    durable?: Partial<ServerView['durable']>;
  } = {},
): ServerView {
  const { durable, ...rest } = overrides;
  return {
    id,
    role: 'follower',
    term: 1,
    commitIndex: 0,
    entries,
    applied: [],
    ...rest,
    durable: { term: 1, vote: null, entries, ...durable },
  };
}

// The checker must be able to fail: each property is shown a fabricated violation.
describe('SafetyChecker catches each violation', () => {
  it('two votes by one server in one term, even at different moments', () => {
    const checker = new SafetyChecker();
    checker.check([view('1', [], { durable: { term: 3, vote: '2' } })]);
    checker.check([view('1', [], { durable: { term: 3, vote: '2' } })]);
    expect(() => checker.check([view('1', [], { durable: { term: 3, vote: '3' } })])).toThrow(
      /voted for 2 and then 3 in term 3/,
    );
  });

  it('a vote granted on the wire that is not on the voter’s disk', () => {
    const grant = {
      type: 'request-vote-response',
      term: 3,
      from: '1',
      to: '2',
      preVote: false,
      granted: true,
    } as const;
    const checker = new SafetyChecker();
    expect(() =>
      checker.check([view('1', [], { durable: { term: 3, vote: '2' } })], [grant]),
    ).not.toThrow();
    expect(() =>
      checker.check([view('1', [], { durable: { term: 3, vote: null } })], [grant]),
    ).toThrow(/granted 2 its vote in term 3/);
  });

  it('two leaders in one term, even at different moments', () => {
    const checker = new SafetyChecker();
    checker.check([view('1', [], { role: 'leader', term: 2 })]);
    expect(() => checker.check([view('2', [], { role: 'leader', term: 2 })])).toThrow(
      /two leaders in term 2/,
    );
  });

  it('a committed entry that changes later', () => {
    const checker = new SafetyChecker();
    checker.check([view('1', [command(1, 1, 'x')], { commitIndex: 1 })]);
    expect(() => checker.check([view('2', [command(1, 1, 'y')], { commitIndex: 1 })])).toThrow(
      /committed entry 1 changed/,
    );
  });

  it('two logs that share an index and term but differ before it', () => {
    const checker = new SafetyChecker();
    const a = [command(1, 1, 'x'), command(2, 2)];
    const b = [command(1, 1, 'y'), command(2, 2)];
    expect(() => checker.check([view('1', a), view('2', b)])).toThrow(/log matching/);
  });

  it('logs that differ only after their last shared index and term pass', () => {
    const checker = new SafetyChecker();
    const a = [command(1, 1), command(2, 2, 'x')];
    const b = [command(1, 1), command(2, 3, 'y')];
    expect(() => checker.check([view('1', a), view('2', b)])).not.toThrow();
  });

  it('a leader of a later term that lacks a committed entry', () => {
    const checker = new SafetyChecker();
    checker.check([view('1', [command(1, 1)], { commitIndex: 1, term: 1 })]);
    expect(() => checker.check([view('2', [command(1, 2)], { role: 'leader', term: 2 })])).toThrow(
      /lacks committed entry/,
    );
  });

  it('applied sequences that are not prefixes of one sequence', () => {
    const checker = new SafetyChecker();
    checker.check([view('1', [], { applied: [command(1, 1, 'x')] })]);
    expect(() => checker.check([view('2', [], { applied: [command(1, 1, 'y')] })])).toThrow(
      /applied/,
    );
    expect(() => new SafetyChecker().check([view('3', [], { applied: [command(2, 1)] })])).toThrow(
      /applied/,
    );
  });

  it('an acknowledgement on the wire for entries that are not on the follower’s disk', () => {
    const ack = {
      type: 'append-entries-response',
      term: 1,
      from: '2',
      to: '1',
      success: true,
      matchIndex: 2,
      rejectedIndex: 0,
      hintIndex: 0,
      hintTerm: 0,
    } as const;
    const log = [command(1, 1), command(2, 1)];
    expect(() => new SafetyChecker().check([view('2', log)], [ack])).not.toThrow();
    expect(() =>
      new SafetyChecker().check([view('2', log, { durable: { entries: log.slice(0, 1) } })], [ack]),
    ).toThrow(/2 acknowledged entries up to 2 in term 1 but its disk holds term 1 and 1 entries/);
  });

  it('a commit index pointing at an entry that only a minority holds on disk', () => {
    const log = [command(1, 1)];
    const leader = view('1', log, { role: 'leader', commitIndex: 1, durable: { entries: [] } });
    const follower = view('2', log);
    const lagging = view('3', []);
    expect(() => new SafetyChecker().check([leader, follower, lagging])).toThrow(
      /1 committed 1\/1 but only 1 of 3 servers hold it on disk/,
    );
  });

  it('a server that lacks a committed entry but could still be elected (Figure 8)', () => {
    const old = [command(1, 1), command(2, 2)];
    const newer = [command(1, 1), command(2, 3)];
    const checker = new SafetyChecker();
    expect(() =>
      checker.check([
        view('1', old, { role: 'leader', term: 4, commitIndex: 2 }),
        view('2', newer),
        view('3', old),
      ]),
    ).toThrow(/leader-completeness: 2 lacks committed entry 2\/2 .* servers would elect it/);
  });

  it('a ReadIndex answer below what was committed when the read began', () => {
    const reads = new ReadIndexChecker();
    const fresh = reads.request('1', 5);
    expect(() => reads.answer('1', { context: fresh, confirmed: true, index: 5 })).not.toThrow();
    const refused = reads.request('1', 5);
    expect(() => reads.answer('1', { context: refused, confirmed: false })).not.toThrow();
    const stale = reads.request('1', 5);
    expect(() => reads.answer('1', { context: stale, confirmed: true, index: 4 })).toThrow(
      SafetyViolationError,
    );
    expect(reads.answered).toBe(2);
  });
});
