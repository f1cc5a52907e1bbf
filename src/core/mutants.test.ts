// The checks must catch the bugs they exist for. Each test copies the core, plants one known bug
// in the copy (a "mutant"), and runs the seeded random cluster against it until the safety checker
// reports a violation. The real core is never touched: the copy lives in a temporary directory.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CoreFactory } from '../testing/script/core-cluster.js';
import { RandomDriver } from '../testing/script/random-driver.js';
import { SafetyChecker, viewsOf } from '../testing/script/safety-checker.js';
import type { RaftCore } from './raft-core.js';

/** Seeds tried per mutant before the test gives up; each seed is a short bounded run. */
const seedsMax = 300;
const stepsPerRun = 400;

interface Mutant {
  readonly name: string;
  readonly file: string;
  /** Text that must occur exactly once in the file, so a refactor cannot silently disarm a mutant. */
  readonly find: string;
  readonly replace: string;
}

const mutants: readonly Mutant[] = [
  {
    name: 'counts replicas of an earlier term toward commit (Figure 8)',
    file: 'replication.ts',
    find: 'if (state.log.term(quorumIndex) !== state.term) return false;',
    replace: '',
  },
  {
    name: 'does not persist the vote',
    file: 'raft-core.ts',
    find: 'return { term: this.#state.term, vote: this.#state.vote, commit: this.#state.log.committed };',
    replace: 'return { term: this.#state.term, vote: null, commit: this.#state.log.committed };',
  },
  {
    name: 'compares log index before term in the up-to-date check',
    file: 'raft-log.ts',
    find: 'return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);',
    replace:
      'return lastIndex > this.lastIndex || (lastIndex === this.lastIndex && lastTerm >= this.lastTerm);',
  },
];

const coreDirectory = fileURLToPath(new URL('./', import.meta.url));
const workspace = mkdtempSync(join(tmpdir(), 'raftkit-mutants-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** Copies the core's sources with one bug planted, and returns a factory for the mutant core. */
async function plant(mutant: Mutant, index: number): Promise<CoreFactory> {
  const directory = join(workspace, String(index));
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  for (const entry of readdirSync(coreDirectory, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.includes('.test')) continue;
    copyFileSync(join(coreDirectory, entry.name), join(directory, entry.name));
  }
  const path = join(directory, mutant.file);
  const source = readFileSync(path, 'utf8');
  expect(source.split(mutant.find).length - 1, `${mutant.file} holds the mutated line once`).toBe(
    1,
  );
  writeFileSync(path, source.replace(mutant.find, mutant.replace));
  const module = (await import(pathToFileURL(join(directory, 'raft-core.ts')).href)) as {
    RaftCore: new (...parameters: Parameters<CoreFactory>) => RaftCore;
  };
  return (options, start) => new module.RaftCore(options, start);
}

/** The first seed whose run the checker rejects, or null if none of `seedsMax` did. */
function firstFailingSeed(coreFactory: CoreFactory): number | null {
  for (let seed = 1; seed <= seedsMax; seed++) {
    for (const voters of [3, 5]) {
      const driver = new RandomDriver({ voters, seed, coreFactory });
      const checker = new SafetyChecker();
      try {
        for (let step = 1; step <= stepsPerRun; step++) {
          driver.step();
          checker.check(viewsOf(driver.cluster), driver.cluster.mailbox);
        }
      } catch {
        return seed;
      }
    }
  }
  return null;
}

describe('the randomized safety checks catch planted bugs in a copy of the core', () => {
  mutants.forEach((mutant, index) => {
    it(`catches a core that ${mutant.name}`, async () => {
      const seed = firstFailingSeed(await plant(mutant, index));
      expect(seed, `no seed up to ${seedsMax} caught it`).not.toBeNull();
    }, 60_000);
  });
});
