// The checks must catch the bugs they exist for. Each test copies the core, plants one known bug
// in the copy (a "mutant"), and replays the interaction scripts, then seeded random runs, against it
// until the safety checker reports a violation of a named property; an exception of any other kind
// does not count. The real core is never touched: the copy lives in a temporary directory.
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
import type { CoreCluster, CoreFactory } from '../testing/script/core-cluster.js';
import { runScriptCommand } from '../testing/script/script-commands.js';
import { parseScript } from '../testing/script/script-runner.js';
import { RandomDriver } from '../testing/script/random-driver.js';
import { SafetyViolationError, type SafetyProperty } from '../testing/checkers/safety-violation.js';
import { RaftCore } from './raft-core.js';

/** Seeds tried per mutant before the test gives up; each seed is a short bounded run. */
const seedsMax = 300;
const stepsPerRun = 400;
/** Failures other than safety violations quoted when a mutant goes uncaught. */
const otherFailuresShown = 3;

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
    name: 'does not persist a vote cast in a term already on disk',
    file: 'raft-core.ts',
    find: 'return a.term === b.term && a.vote === b.vote;',
    replace: 'return a.term === b.term;',
  },
  {
    name: 'compares log index before term in the up-to-date check',
    file: 'raft-log.ts',
    find: 'return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);',
    replace:
      'return lastIndex > this.lastIndex || (lastIndex === this.lastIndex && lastTerm >= this.lastTerm);',
  },
  {
    name: 'counts the leader’s own entries toward commit before they are durable',
    file: 'roles.ts',
    find: 'state.log.append(entries);',
    replace:
      'state.log.append(entries); state.progress.get(state.id)?.maybeUpdate(state.log.lastIndex);',
  },
  {
    name: 'serves ReadIndex without a heartbeat quorum',
    file: 'read-index.ts',
    find: "if (jointVote(state.voterSets, (id) => id === state.id || undefined) === 'won') {",
    replace: 'if (true) {',
  },
  {
    name: 'serves ReadIndex before committing an entry of its term',
    file: 'read-index.ts',
    find: 'if (state.log.term(state.log.committed) !== state.term) {\n    state.readsAwaitingCommit',
    replace: 'if (false) {\n    state.readsAwaitingCommit',
  },
  {
    name: 'truncates its log on a stale, shorter append',
    file: 'raft-log.ts',
    find: 'if (this.term(entry.index) !== entry.term) {',
    replace: 'if (entry.index > prevIndex) {',
  },
  {
    name: 'acknowledges appended entries before persisting them',
    file: 'state.ts',
    find: "if (this.role === 'leader') this.messages.push(message);",
    replace:
      "if (this.role === 'leader' || message.type === 'append-entries-response') this.messages.push(message);",
  },
  {
    name: 'lets a follower commit beyond the prefix it verified (a heartbeat claims the leader’s commit)',
    file: 'lease.ts',
    find: 'commit: Math.min(progress.match, state.log.committed),',
    replace: 'commit: state.log.committed,',
  },
  {
    name: 'keeps leading after seeing a higher term',
    file: 'step.ts',
    find: 'becomeFollower(state, message.term, fromLeader(message) ? message.from : null);',
    replace:
      "if (state.role === 'leader') { state.term = message.term; state.vote = null; } else becomeFollower(state, message.term, fromLeader(message) ? message.from : null);",
  },
];

const coreDirectory = fileURLToPath(new URL('./', import.meta.url));
const testdataDirectory = join(coreDirectory, 'testdata');
const scripts = readdirSync(testdataDirectory).filter((name) => name.endsWith('.txt'));
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

/** How a mutant was caught: where (a script line or a seed) and the property the checkers named. */
interface Catch {
  readonly where: string;
  readonly property: SafetyProperty;
  readonly message: string;
}

/** What a search found: the catch, if any, and a few failures that were not safety verdicts. */
interface Search {
  readonly caught: Catch | null;
  readonly other: readonly string[];
}

/**
 * Replays every interaction script against the mutant with the checker watching after each
 * command. A script's transcript may well differ under the mutant; only a checker's verdict counts.
 * A command that throws ends its script (the scenario no longer applies). Only the scripts that
 * the real core passes under the checker take part: some stage what the checker must reject (a
 * wiped disk), and those would blame every mutant for a fault of the scenario.
 */
function scriptedSafetyViolation(
  coreFactory: CoreFactory,
  other: string[],
  names: readonly string[] = checkedScripts(),
): Catch | null {
  for (const name of names) {
    let cluster: CoreCluster | null = null;
    for (const scriptCase of parseScript(readFileSync(join(testdataDirectory, name), 'utf8'))) {
      try {
        cluster = runScriptCommand(cluster, scriptCase.command, coreFactory).cluster;
        cluster?.check();
      } catch (error) {
        const where = `${name}:${scriptCase.line} ${scriptCase.command}`;
        if (error instanceof SafetyViolationError) {
          return { where, property: error.property, message: error.message };
        }
        if (other.length < otherFailuresShown) other.push(`${where}: ${String(error)}`);
        break;
      }
    }
  }
  return null;
}

let checkedScriptsMemo: readonly string[] | null = null;

/** The scripts the real core passes with the checker watching (computed once). */
function checkedScripts(): readonly string[] {
  if (checkedScriptsMemo !== null) return checkedScriptsMemo;
  const realCore: CoreFactory = (options, start) => new RaftCore(options, start);
  checkedScriptsMemo = scripts.filter(
    (name) => scriptedSafetyViolation(realCore, [], [name]) === null,
  );
  return checkedScriptsMemo;
}

/**
 * The first random run that the checkers reject with a safety violation, or null if none of
 * `seedsMax` did. Any other failure (an assertion inside the mutant, a driver error) ends that run
 * without a verdict.
 */
function randomSafetyViolation(coreFactory: CoreFactory, other: string[]): Catch | null {
  for (let seed = 1; seed <= seedsMax; seed++) {
    for (const voters of [3, 5]) {
      const driver = new RandomDriver({ voters, seed, coreFactory });
      try {
        for (let step = 1; step <= stepsPerRun; step++) {
          driver.step();
          driver.cluster.check();
        }
      } catch (error) {
        const where = `seed ${seed} with ${voters} servers`;
        if (error instanceof SafetyViolationError) {
          return { where, property: error.property, message: error.message };
        }
        if (other.length < otherFailuresShown) other.push(`${where}: ${String(error)}`);
      }
    }
  }
  return null;
}

/** Scripts first (they stage the paper's corner cases exactly), then random runs. */
function firstSafetyViolation(coreFactory: CoreFactory): Search {
  const other: string[] = [];
  const caught =
    scriptedSafetyViolation(coreFactory, other) ?? randomSafetyViolation(coreFactory, other);
  return { caught, other };
}

describe('the safety checks catch planted bugs in a copy of the core', () => {
  it('replays the interaction scripts that the real core passes under the checker', () => {
    expect(checkedScripts().length).toBeGreaterThan(5);
  });

  mutants.forEach((mutant, index) => {
    it(`catches a core that ${mutant.name}`, async () => {
      const { caught, other } = firstSafetyViolation(await plant(mutant, index));
      expect(
        caught,
        `no safety violation within the scripts and ${seedsMax} seeds; other failures: ${other.join('; ') || 'none'}`,
      ).not.toBeNull();
      console.log(`${mutant.name}: ${caught!.where}: ${caught!.message}`);
    }, 60_000);
  });
});
