import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapSnapshot, configurationOf } from '../../core/index.js';
import { cleanStopRecordTests, testStopClock } from '../clean-stop.test-helpers.js';
import { SqliteStorage, type SqliteDatabase } from './sqlite-storage.js';
import {
  applicationDatabase,
  databasePath,
  removeDatabases,
} from './temporary-databases.test-helpers.js';

afterEach(removeDatabases);

function storedRecords(database: SqliteDatabase): unknown[] {
  return database
    .prepare<[], { record: unknown }>('SELECT record FROM raft_stopped')
    .all()
    .map((row) => row.record);
}

/** Replaces the stored record by `record`, as a previous holder or a hand edit left it. */
function storeRecord(path: string, record: unknown): void {
  const database = applicationDatabase(path);
  // As the storage makes it, for a database no storage has opened yet.
  database.exec(`CREATE TABLE IF NOT EXISTS raft_stopped (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    record TEXT NOT NULL
  )`);
  database.prepare('INSERT OR REPLACE INTO raft_stopped (id, record) VALUES (1, ?)').run(record);
}

cleanStopRecordTests('SqliteStorage', {
  create: databasePath,
  storage: (path, stopClock) => new SqliteStorage({ path, stopClock }),
  storedRecord(path) {
    const records = storedRecords(applicationDatabase(path));
    expect(records.length).toBeLessThanOrEqual(1);
    return records.length === 0 ? null : String(records[0]);
  },
  storeRecord,
});

describe('SqliteStorage clean-stop record in its database', () => {
  /** A bootstrapped database whose storage recorded a clean stop at the clock's time. */
  async function closedDatabase(clock = testStopClock()): Promise<string> {
    const path = databasePath();
    const storage = new SqliteStorage({ path, stopClock: clock });
    await storage.open();
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a', 'b', 'c'])), {
      term: 2,
      vote: null,
      commit: 0,
    });
    await storage.recordCleanStop();
    await storage.close();
    return path;
  }

  async function firstOpen(path: string, clock = testStopClock()) {
    const storage = new SqliteStorage({ path, stopClock: clock });
    try {
      return await storage.open();
    } finally {
      await storage.recordCleanStop();
      await storage.close();
    }
  }

  it('believes no record that is not text, and deletes it', async () => {
    const clock = testStopClock();
    const path = await closedDatabase(clock);
    for (const record of [Buffer.from(`boot-1 ${clock.nowMs}\n`), clock.nowMs]) {
      storeRecord(path, record);
      expect(await firstOpen(path, clock)).not.toHaveProperty('closedForMs');
      // What is there now is the record of the close that just happened.
      expect(storedRecords(applicationDatabase(path))).toEqual([`boot-1 ${clock.nowMs}\n`]);
    }
  });

  it('opens a database made before the record existed, and records stops in it', async () => {
    const clock = testStopClock();
    const path = await closedDatabase(clock);
    applicationDatabase(path).exec('DROP TABLE raft_stopped');
    const reopened = await firstOpen(path, clock);
    expect(reopened).toMatchObject({ hardState: { term: 2 }, lastIndex: 0 });
    expect(reopened).not.toHaveProperty('closedForMs');
    clock.nowMs += 250;
    expect((await firstOpen(path, clock))?.closedForMs).toBe(250);
  });

  it('refuses to record a stop when not open, and after a failed write', async () => {
    const database = applicationDatabase();
    const storage = new SqliteStorage({ database, stopClock: testStopClock() });
    await expect(storage.recordCleanStop()).rejects.toMatchObject({ code: 'INVARIANT' });
    await storage.open();
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a'])), {
      term: 1,
      vote: null,
      commit: 0,
    });
    // Another connection holding the write lock makes the next transaction fail with SQLITE_BUSY.
    const blocker = applicationDatabase(database.name);
    blocker.pragma('busy_timeout = 0');
    database.pragma('busy_timeout = 0');
    blocker.exec('BEGIN IMMEDIATE');
    const failed: unknown = await storage.recordCleanStop().catch((error: unknown) => error);
    blocker.exec('ROLLBACK');
    expect(failed).toMatchObject({ code: 'STORAGE_FAILED' });
    await expect(storage.recordCleanStop()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(storedRecords(database)).toEqual([]);
    await storage.close();
    await expect(storage.recordCleanStop()).rejects.toMatchObject({ code: 'INVARIANT' });
  });
});
