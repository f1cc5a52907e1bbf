import { waitForGo } from '../crash-writer.test-helpers.js';
import { bootstrapSnapshot, configurationOf, type Entry } from '../../core/index.js';
import { workloadCommandBytes } from './crash-workload.test-helpers.js';
import { SqliteKeyValueStore } from './sqlite-key-value-store.js';
import { SqliteStorage } from './sqlite-storage.js';

/**
 * A process that appends and applies the crash workload to a SQLite database as fast as it can,
 * until it is killed. Run by sqlite-crash.test.ts; resumes from whatever the last one left.
 */

/** Largest batch appended in one save. */
const batchEntriesMax = 24;

async function main(path: string): Promise<void> {
  await waitForGo();
  const storage = new SqliteStorage({ path });
  const state =
    (await storage.open()) ??
    (await storage
      .bootstrap(bootstrapSnapshot(configurationOf(['solo'])), { term: 1, vote: 'solo', commit: 0 })
      .then(() => storage.open()));
  const store = new SqliteKeyValueStore(storage);
  store.open();
  let lastIndex = state?.lastIndex ?? 0;
  let applied = store.appliedIndex();
  process.stdout.write(`ready ${lastIndex} ${applied}\n`);
  for (let round = 0; ; round++) {
    const size = 1 + (round % batchEntriesMax);
    const entries: Entry[] = [];
    for (let index = lastIndex + 1; index <= lastIndex + size; index++) {
      entries.push({ kind: 'command', index, term: 1, data: workloadCommandBytes(index) });
    }
    await storage.save({ entries, hardState: { term: 1, vote: 'solo', commit: lastIndex + size } });
    lastIndex += size;
    // Apply what the previous round committed, so the applied index trails the log.
    const applyTo = lastIndex - size;
    if (applyTo > applied) {
      for (const entry of await storage.entries(applied + 1, applyTo + 1)) {
        if (entry.kind === 'command') store.apply(entry.data, entry);
      }
      applied = applyTo;
      // The test kills only after seeing progress, so a slow machine still kills mid-work.
      process.stdout.write(`applied ${applied}\n`);
    }
  }
}

const path = process.argv[2];
if (path === undefined) throw new Error('usage: sqlite-crash-child <database path>');
await main(path);
