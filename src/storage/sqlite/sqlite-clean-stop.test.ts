import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapSnapshot, configurationOf } from '../../core/index.js';
import type { StopClock } from '../clean-stop-record.js';
import { SqliteStorage, type SqliteDatabase } from './sqlite-storage.js';
import {
  applicationDatabase,
  databasePath,
  removeDatabases,
} from './temporary-databases.test-helpers.js';

afterEach(removeDatabases);

/** A clock the test moves by hand, on a boot the test names. */
function testClock(bootId = 'boot-1'): StopClock & { nowMs: number } {
  return {
    bootId,
    nowMs: 1_000_000,
    monotonicMs() {
      return this.nowMs;
    },
  };
}

/** A bootstrapped database whose storage recorded a clean stop at `clock`'s time, then closed. */
async function closedDatabase(clock: StopClock): Promise<string> {
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

async function reopen(path: string, clock: StopClock) {
  const storage = new SqliteStorage({ path, stopClock: clock });
  try {
    return { first: await storage.open(), second: await storage.open() };
  } finally {
    await storage.recordCleanStop();
    await storage.close();
  }
}

function storedRecords(database: SqliteDatabase): unknown[] {
  return database
    .prepare<[], { record: unknown }>('SELECT record FROM raft_stopped')
    .all()
    .map((row) => row.record);
}

/** Replaces the stored record by `record`, as a previous holder or a hand edit left it. */
function storeRecord(path: string, record: unknown): void {
  applicationDatabase(path)
    .prepare('INSERT OR REPLACE INTO raft_stopped (id, record) VALUES (1, ?)')
    .run(record);
}

describe('SqliteStorage clean-stop record', () => {
  it('reports how long ago the previous holder closed, to the first open only', async () => {
    const clock = testClock();
    const path = await closedDatabase(clock);
    expect(storedRecords(applicationDatabase(path))).toEqual(['boot-1 1000000\n']);
    clock.nowMs += 3_500;
    const { first, second } = await reopen(path, clock);
    expect(first?.closedForMs).toBe(3_500);
    expect(second).not.toHaveProperty('closedForMs');
  });

  it('deletes the record as it opens, so a crash afterwards reports nothing', async () => {
    const clock = testClock();
    const path = await closedDatabase(clock);
    const storage = new SqliteStorage({ path, stopClock: clock });
    expect(await storage.open()).toHaveProperty('closedForMs', 0);
    // This holder may acknowledge anything from now on: the old record must not speak for it.
    expect(storedRecords(applicationDatabase(path))).toEqual([]);
    // A crash: the process goes away without recording a stop.
    await storage.close();
    clock.nowMs += 10;
    const { first } = await reopen(path, clock);
    expect(first).not.toHaveProperty('closedForMs');
  });

  it('believes no record from another boot, and deletes it', async () => {
    const path = await closedDatabase(testClock('boot-1'));
    const { first } = await reopen(path, testClock('boot-2'));
    expect(first).not.toHaveProperty('closedForMs');
    // What is there now is the record of the close that just happened, on the new boot.
    expect(storedRecords(applicationDatabase(path))).toEqual([expect.stringMatching(/^boot-2 /)]);
  });

  it('believes no record that is torn, garbled, oversized, from the future or not text', async () => {
    const clock = testClock();
    const path = await closedDatabase(clock);
    const oversized = `boot-1 ${clock.nowMs}\n`.padStart(4096, '0');
    const records = [
      '',
      'boot-1 12',
      'boot-1 twelve\n',
      `boot-1 ${clock.nowMs + 1}\n`,
      oversized,
      Buffer.from(`boot-1 ${clock.nowMs}\n`),
    ];
    for (const record of records) {
      storeRecord(path, record);
      const { first } = await reopen(path, clock);
      expect(first).not.toHaveProperty('closedForMs');
    }
  });

  it('records nothing on a close alone: whoever closed it may still be sending', async () => {
    const clock = testClock();
    const path = await closedDatabase(clock);
    const storage = new SqliteStorage({ path, stopClock: clock });
    await storage.open();
    await storage.close();
    expect(storedRecords(applicationDatabase(path))).toEqual([]);
    const { first } = await reopen(path, clock);
    expect(first).not.toHaveProperty('closedForMs');
  });

  it('deletes a record it read but could not report, when the database was empty', async () => {
    const clock = testClock();
    const path = databasePath();
    const database = applicationDatabase(path);
    database.exec('CREATE TABLE raft_stopped (id INTEGER PRIMARY KEY, record TEXT NOT NULL)');
    storeRecord(path, `${clock.bootId} ${clock.nowMs}\n`);
    const storage = new SqliteStorage({ database, stopClock: clock });
    expect(await storage.open()).toBeNull();
    expect(storedRecords(database)).toEqual([]);
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a'])), {
      term: 1,
      vote: null,
      commit: 0,
    });
    expect(await storage.open()).not.toHaveProperty('closedForMs');
    await storage.close();
  });

  it('writes nothing when the machine cannot name its boot', async () => {
    const path = await closedDatabase(testClock(''));
    expect(storedRecords(applicationDatabase(path))).toEqual([]);
  });

  it('opens a database made before the record existed, and records stops in it', async () => {
    const clock = testClock();
    const path = await closedDatabase(clock);
    applicationDatabase(path).exec('DROP TABLE raft_stopped');
    const { first } = await reopen(path, clock);
    expect(first).toMatchObject({ hardState: { term: 2 }, lastIndex: 0 });
    expect(first).not.toHaveProperty('closedForMs');
    clock.nowMs += 250;
    expect((await reopen(path, clock)).first?.closedForMs).toBe(250);
  });

  it('refuses to record a stop when not open, and after a failed write', async () => {
    const clock = testClock();
    const database = applicationDatabase();
    const storage = new SqliteStorage({ database, stopClock: clock });
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
