import { describe, expect, it } from 'vitest';
import { UsageError, integerOption, parseCommandLine, type CommandSpec } from './cli-arguments.js';

const commands: CommandSpec[] = [
  { words: ['cluster', 'start'], arguments: [], options: ['dir', 'nodes'], summary: '' },
  { words: ['transfer'], arguments: ['<id>'], options: ['dir'], summary: '' },
  { words: ['status'], arguments: [], options: ['dir', 'json'], summary: '' },
];

describe('parseCommandLine', () => {
  it('matches the longest command and keeps its arguments and options', () => {
    const parsed = parseCommandLine(['--dir', 'd', 'cluster', 'start', '--nodes', '5'], commands);
    expect(parsed?.spec.words).toEqual(['cluster', 'start']);
    expect(parsed?.values).toEqual({ dir: 'd', nodes: '5' });
    expect(parseCommandLine(['transfer', 'n2'], commands)?.arguments).toEqual(['n2']);
  });

  it('returns null for help, version and an empty line', () => {
    expect(parseCommandLine([], commands)).toBeNull();
    expect(parseCommandLine(['status', '--help'], commands)).toBeNull();
    expect(parseCommandLine(['--version'], commands)).toBeNull();
  });

  it('rejects what it does not know with a usage error', () => {
    const usage = (argv: string[]) => () => parseCommandLine(argv, commands);
    expect(usage(['status', '--bogus'])).toThrow(UsageError);
    expect(usage(['status', '--nodes', '3'])).toThrow(/does not take --nodes/);
    expect(usage(['statuss'])).toThrow(/unknown command 'statuss'/);
    expect(usage(['transfer'])).toThrow(/takes <id>/);
    expect(usage(['status', 'extra'])).toThrow(/takes no arguments/);
  });
});

describe('integerOption', () => {
  it('takes whole numbers within bounds only', () => {
    const bounds = { min: 1, max: 64, fallback: 3 };
    expect(integerOption({}, 'nodes', bounds)).toBe(3);
    expect(integerOption({ nodes: '5' }, 'nodes', bounds)).toBe(5);
    for (const raw of ['0', '65', '2.5', '3x', '']) {
      expect(() => integerOption({ nodes: raw }, 'nodes', bounds)).toThrow(UsageError);
    }
  });
});
