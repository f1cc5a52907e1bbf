import { describe, expect, it } from 'vitest';
import { RaftError } from 'raftkit';
import { chaosDefaults, parseChaosOptions, replayCommand } from './chaos-options.js';

function codeOf(argv: string[]): string | null {
  try {
    parseChaosOptions(argv);
    return null;
  } catch (error) {
    return error instanceof RaftError ? error.code : 'not a RaftError';
  }
}

describe('chaos command line', () => {
  it('reads the documented options and fills the rest from the defaults', () => {
    const options = parseChaosOptions([
      '--duration',
      '90',
      '--seed',
      '7',
      '--out',
      'runs/a',
      '--faults',
      'kill,pause',
      '--read-modes',
      'stale',
      '--request-timeout-ms',
      '500',
    ]);
    expect(options).toMatchObject({
      durationS: 90,
      seed: 7,
      out: 'runs/a',
      faults: ['kill', 'pause'],
      readModes: ['stale'],
      requestTimeoutMs: 500,
      servers: chaosDefaults.servers,
    });
    expect(replayCommand(options)).toContain('--seed 7 --out runs/a-replay');
    expect(replayCommand(options)).toContain('--request-timeout-ms 500');
  });

  it('rejects bad input with INVALID_CONFIG', () => {
    expect(codeOf(['--duration', '0'])).toBe('INVALID_CONFIG');
    expect(codeOf(['--duration', 'ten'])).toBe('INVALID_CONFIG');
    expect(codeOf(['--seed=-3'])).toBe('INVALID_CONFIG');
    expect(codeOf(['--servers', '2'])).toBe('INVALID_CONFIG');
    expect(codeOf(['--faults', 'kill,meteor'])).toBe('INVALID_CONFIG');
    expect(codeOf(['--read-modes', ''])).toBe('INVALID_CONFIG');
    expect(codeOf(['--request-timeout-ms', '5'])).toBe('INVALID_CONFIG');
    expect(codeOf(['--no-such-flag'])).toBe('INVALID_CONFIG');
  });
});
