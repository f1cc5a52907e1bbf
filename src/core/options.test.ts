import { describe, expect, it } from 'vitest';
import { RaftError } from './errors.js';
import { coreDefaults, resolveCoreOptions, type RaftCoreOptions } from './options.js';
import { RaftCore } from './raft-core.js';
import { bootstrapSnapshot, configurationOf, type Configuration } from './types.js';

/** Runs `action` and returns the RaftError it threw; fails the test if it threw nothing else. */
function raftErrorOf(action: () => unknown): RaftError {
  try {
    action();
  } catch (error) {
    if (error instanceof RaftError) return error;
    throw error;
  }
  throw new Error('expected a RaftError, nothing was thrown');
}

function coreWith(configuration: Configuration, options: Partial<RaftCoreOptions> = {}): RaftCore {
  return new RaftCore(
    { id: '1', ...options },
    {
      hardState: { term: 0, vote: null, commit: 0 },
      snapshot: bootstrapSnapshot(configuration),
      entries: [],
    },
  );
}

const limits = [
  'electionTicks',
  'heartbeatTicks',
  'inflightMessagesMax',
  'inflightBytesMax',
  'entriesPerMessageMax',
  'messageBytesMax',
  'uncommittedBytesMax',
  'applyEntriesMax',
] as const;

describe('resolveCoreOptions rejects nonsense with INVALID_CONFIG', () => {
  for (const option of limits) {
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      it(`${option} = ${value} is rejected`, () => {
        // Keep the election above the heartbeat so only the option under test is at fault.
        const base = option === 'heartbeatTicks' ? {} : { electionTicks: 10, heartbeatTicks: 1 };
        const error = raftErrorOf(() => resolveCoreOptions({ id: '1', ...base, [option]: value }));
        expect(error).toMatchObject({ code: 'INVALID_CONFIG', details: { option } });
      });
    }
  }

  it('an empty id is rejected', () => {
    expect(raftErrorOf(() => resolveCoreOptions({ id: '' })).code).toBe('INVALID_CONFIG');
  });

  it('electionTicks equal to heartbeatTicks is rejected: followers would time out between beats', () => {
    const error = raftErrorOf(() =>
      resolveCoreOptions({ id: '1', electionTicks: 3, heartbeatTicks: 3 }),
    );
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', details: { option: 'electionTicks' } });
  });

  it('electionTicks below heartbeatTicks is rejected', () => {
    const error = raftErrorOf(() =>
      resolveCoreOptions({ id: '1', electionTicks: 2, heartbeatTicks: 5 }),
    );
    expect(error.code).toBe('INVALID_CONFIG');
  });

  it('a default heartbeat with electionTicks 1 is rejected', () => {
    expect(raftErrorOf(() => resolveCoreOptions({ id: '1', electionTicks: 1 })).code).toBe(
      'INVALID_CONFIG',
    );
  });

  for (const value of [-1, 0.5, Number.NaN]) {
    it(`applied = ${value} is rejected`, () => {
      const error = raftErrorOf(() => resolveCoreOptions({ id: '1', applied: value }));
      expect(error).toMatchObject({ code: 'INVALID_CONFIG', details: { option: 'applied' } });
    });
  }
});

describe('resolveCoreOptions applies the defaults', () => {
  it('fills every limit from coreDefaults', () => {
    const resolved = resolveCoreOptions({ id: '7' });
    expect(resolved).toMatchObject({ id: '7', applied: 0, tracer: null, ...coreDefaults });
    expect(typeof resolved.random).toBe('function');
  });

  it('keeps the values it is given', () => {
    const given = {
      id: 'a',
      electionTicks: 20,
      heartbeatTicks: 2,
      inflightMessagesMax: 4,
      inflightBytesMax: 1000,
      entriesPerMessageMax: 8,
      messageBytesMax: 500,
      uncommittedBytesMax: 2000,
      applyEntriesMax: 16,
      applied: 3,
    };
    expect(resolveCoreOptions(given)).toMatchObject(given);
  });

  it('the default random source is seeded from the id, so runs replay', () => {
    const first = resolveCoreOptions({ id: 'server-a' }).random;
    const again = resolveCoreOptions({ id: 'server-a' }).random;
    const other = resolveCoreOptions({ id: 'server-b' }).random;
    const draws = (random: () => number): number[] => [random(), random(), random()];
    const firstDraws = draws(first);
    expect(draws(again)).toEqual(firstDraws);
    expect(draws(other)).not.toEqual(firstDraws);
    for (const draw of firstDraws) {
      expect(draw).toBeGreaterThanOrEqual(0);
      expect(draw).toBeLessThan(1);
    }
  });

  it('the default election timeout is above the default heartbeat', () => {
    expect(coreDefaults.electionTicks).toBeGreaterThan(coreDefaults.heartbeatTicks);
  });
});

describe('RaftCore construction validates options and the configuration', () => {
  it('rejects invalid options through resolveCoreOptions', () => {
    const error = raftErrorOf(() => coreWith(configurationOf(['1']), { inflightMessagesMax: 0 }));
    expect(error.code).toBe('INVALID_CONFIG');
  });

  it('rejects a voter listed twice', () => {
    expect(raftErrorOf(() => coreWith(configurationOf(['1', '2', '2']))).code).toBe(
      'INVALID_CONFIG',
    );
  });

  it('rejects a learner listed twice', () => {
    const configuration = configurationOf(['1'], { learners: ['4', '4'] });
    expect(raftErrorOf(() => coreWith(configuration)).code).toBe('INVALID_CONFIG');
  });

  it('rejects an outgoing voter listed twice', () => {
    const configuration = { ...configurationOf(['1', '2']), outgoingVoters: ['1', '1'] };
    expect(raftErrorOf(() => coreWith(configuration)).code).toBe('INVALID_CONFIG');
  });

  it('rejects a learner that is also a voter', () => {
    const configuration = configurationOf(['1', '2', '3'], { learners: ['3'] });
    expect(raftErrorOf(() => coreWith(configuration)).code).toBe('INVALID_CONFIG');
  });

  it('accepts a learner that is an outgoing voter: demoted in a joint change, it votes until the leave', () => {
    const configuration = {
      ...configurationOf(['1', '2'], { learners: ['3'] }),
      outgoingVoters: ['1', '2', '3'],
    };
    expect(coreWith(configuration).status().configuration.learners).toEqual(['3']);
  });

  it('rejects an empty member id', () => {
    expect(raftErrorOf(() => coreWith(configurationOf(['1', '']))).code).toBe('INVALID_CONFIG');
  });

  it('accepts a valid configuration and starts as a follower at the stored term', () => {
    const core = coreWith(configurationOf(['1', '2', '3'], { learners: ['4'] }));
    expect(core.status()).toMatchObject({ role: 'follower', term: 0, vote: null, commitIndex: 0 });
  });

  it('rejects a proposed configuration with a duplicate voter', () => {
    const core = coreWith(configurationOf(['1']));
    core.campaign();
    expect(core.role).toBe('leader');
    core.advance(core.ready());
    expect(core.status().commitIndex).toBe(1);
    const error = raftErrorOf(() => core.proposeConfiguration(configurationOf(['1', '1'])));
    expect(error.code).toBe('INVALID_CONFIG');
  });
});
