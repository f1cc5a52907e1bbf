import { describe, expect, it } from 'vitest';
import type { CoreCluster } from './core-cluster.js';
import { runScriptCommand } from './script-commands.js';

/** Runs commands in order on one cluster and returns each one's output. */
function run(commands: readonly string[]): string[] {
  let cluster: CoreCluster | null = null;
  return commands.map((command) => {
    const result = runScriptCommand(cluster, command);
    cluster = result.cluster;
    return result.output;
  });
}

describe('setup', () => {
  it('leaves the cluster exactly as an election replayed step by step does', () => {
    const replayed = run(['add-nodes 5 prevote=false', 'campaign 2', 'stabilize', 'status']);
    const setUp = run(['setup voters=1,2,3,4,5 leader=2 prevote=false', 'status']);
    expect(setUp[0]).toBe('ok leader=2 term=1 commit=1 voters=1,2,3,4,5');
    expect(setUp[1]).toBe(replayed[3]);
  });

  it('adds learners after the voters', () => {
    const [summary, configuration] = run(['setup voters=1,2,3 learners=4', 'configuration 4']);
    expect(summary).toBe('ok leader=1 term=1 commit=1 voters=1,2,3 learners=4');
    expect(configuration).toBe('4: voters=1,2,3 learners=4 index=0 committed=0');
  });

  it.each([
    ['setup', 'setup: voters=1,2,… is required'],
    ['setup voters=2,3', 'setup: voters must be numbered in order from 1 (1,2), got 2,3'],
    [
      'setup voters=1,2,3 learners=5',
      'setup: learners must be numbered in order from 4 (4), got 5',
    ],
    ['setup voters=1,2,3 leader=4', 'setup: leader 4 is not a voter'],
  ])('refuses %s', (command, message) => {
    expect(() => run([command])).toThrow(message);
  });
});

describe('commands', () => {
  it('refuses an unknown command by name, also one that Object.prototype holds', () => {
    expect(() => run(['add-nodes 3', 'toString'])).toThrow('unknown command toString');
    expect(() => run(['add-nodes 3', 'elect 1'])).toThrow('unknown command elect');
  });

  it('needs a cluster before any other command', () => {
    expect(() => run(['campaign 1'])).toThrow('add-nodes or setup first');
  });
});
