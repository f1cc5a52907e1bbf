import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RaftError, bootstrapSnapshot, configurationOf, type Entry } from '../../core/index.js';
import {
  SqliteKeyValueStore,
  encodeKeyValueCommand,
  type KeyValueCommand,
} from './sqlite-key-value-store.js';
import { SqliteStorage, type SqliteDatabase } from './sqlite-storage.js';
import {
  applicationDatabase,
  databasePath,
  removeDatabases,
} from './temporary-databases.test-helpers.js';

afterEach(removeDatabases);

async function openedOn(database: SqliteDatabase): Promise<SqliteStorage> {
  const storage = new SqliteStorage({ database });
  if ((await storage.open()) === null) {
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a'])), {
      term: 1,
      vote: 'a',
      commit: 0,
    });
  }
  return storage;
}

function set(key: string, value: string): Uint8Array {
  return encodeKeyValueCommand({ op: 'set', key, value });
}

describe('SqliteStorage on the application database', () => {
  it('switches it to WAL with synchronous FULL and leaves it open on close', async () => {
    const database = applicationDatabase();
    const storage = await openedOn(database);
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('synchronous', { simple: true })).toBe(2);
    await storage.close();
    expect(database.open).toBe(true);
  });

  it('keeps its tables apart from the application under a chosen prefix', async () => {
    const database = applicationDatabase();
    const storage = new SqliteStorage({ database, tablePrefix: 'consensus_' });
    await storage.open();
    const tables = database
      .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`)
      .all()
      .map((row) => row.name);
    expect(tables.sort()).toEqual([
      'consensus_applied',
      'consensus_broken',
      'consensus_entries',
      'consensus_snapshot_data',
      'consensus_snapshots',
      'consensus_state',
      'consensus_stopped',
    ]);
  });

  it('refuses a bad table prefix and options naming both or neither source', () => {
    const database = applicationDatabase();
    expect(() => new SqliteStorage({ database, tablePrefix: 'x; DROP TABLE y' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    const neither = {} as unknown as ConstructorParameters<typeof SqliteStorage>[0];
    expect(() => new SqliteStorage(neither)).toThrow(RaftError);
  });

  it('commits the application writes and the applied index together, or neither', async () => {
    const database = applicationDatabase();
    const storage = await openedOn(database);
    database.exec('CREATE TABLE audit (note TEXT)');
    storage.applyInTransaction(1, (db) => db.prepare(`INSERT INTO audit VALUES ('one')`).run());
    expect(() =>
      storage.applyInTransaction(2, (db) => {
        db.prepare(`INSERT INTO audit VALUES ('two')`).run();
        throw new Error('the application changed its mind');
      }),
    ).toThrow('changed its mind');
    expect(storage.appliedIndex()).toBe(1);
    expect(database.prepare('SELECT note FROM audit').all()).toEqual([{ note: 'one' }]);
  });

  it('refuses to apply an index twice or out of order', async () => {
    const storage = await openedOn(applicationDatabase());
    storage.applyInTransaction(5, () => undefined);
    expect(() => storage.applyInTransaction(5, () => undefined)).toThrow(
      expect.objectContaining({ code: 'INVARIANT' }),
    );
    expect(() => storage.applyInTransaction(3, () => undefined)).toThrow(RaftError);
  });

  it('refuses further writes after SQLite fails one', async () => {
    const database = applicationDatabase();
    const storage = await openedOn(database);
    await storage.save({ entries: [{ kind: 'noop', index: 1, term: 1 }] });
    // Another connection holding the write lock makes the next transaction fail with SQLITE_BUSY.
    const blocker = applicationDatabase(database.name);
    blocker.pragma('busy_timeout = 0');
    database.pragma('busy_timeout = 0');
    blocker.exec('BEGIN IMMEDIATE');
    const failed: unknown = await storage
      .save({ entries: [{ kind: 'noop', index: 2, term: 1 }] })
      .catch((error: unknown) => error);
    blocker.exec('ROLLBACK');
    expect(failed).toMatchObject({ code: 'STORAGE_FAILED' });
    expect((failed as RaftError).message).toContain('SQLITE_BUSY');
    await expect(storage.save({})).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });

  it('reports a gap in the stored entries as corruption', async () => {
    const database = applicationDatabase();
    const storage = await openedOn(database);
    const entries: Entry[] = [1, 2, 3].map((index) => ({ kind: 'noop', index, term: 1 }));
    await storage.save({ entries });
    database.exec('DELETE FROM raft_entries WHERE log_index = 2');
    await expect(new SqliteStorage({ database }).open()).rejects.toMatchObject({
      code: 'CORRUPT_STORAGE',
    });
  });

  it('reports a missing better-sqlite3 as a RaftError saying what to install', async () => {
    vi.resetModules();
    vi.doMock('better-sqlite3', () => {
      throw new Error("Cannot find package 'better-sqlite3'");
    });
    try {
      const { SqliteStorage: Isolated } = await import('./sqlite-storage.js');
      const failed: unknown = await new Isolated({ path: databasePath() })
        .open()
        .catch((error: unknown) => error);
      expect(failed).toMatchObject({ code: 'INVALID_CONFIG' });
      expect((failed as RaftError).message).toContain('npm install better-sqlite3');
    } finally {
      vi.doUnmock('better-sqlite3');
      vi.resetModules();
    }
  });
});

describe('SqliteStorage on its own file', () => {
  it('shares one connection between overlapping opens, so close releases the file', async () => {
    const path = databasePath();
    const storage = new SqliteStorage({ path });
    await Promise.all([storage.open(), storage.open()]);
    await storage.close();
    expect(descriptorsOpenOn(path)).toBe(0);
  });
});

/** This process's file descriptors open on `path` (Linux: /proc/self/fd). */
function descriptorsOpenOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((descriptor) => {
    try {
      return readlinkSync(`/proc/self/fd/${descriptor}`) === path;
    } catch {
      return false;
    }
  }).length;
}

describe('SqliteKeyValueStore', () => {
  it('applies commands, records the applied index, and reports it after reopening', async () => {
    const path = databasePath();
    const storage = new SqliteStorage({ path });
    await storage.open();
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a'])), {
      term: 1,
      vote: 'a',
      commit: 0,
    });
    const store = new SqliteKeyValueStore(storage);
    store.open();
    expect(store.apply(set('colour', 'red'), { index: 1 })).toEqual({ previous: null });
    expect(store.apply(set('colour', 'blue'), { index: 2 })).toEqual({ previous: 'red' });
    store.skip({ index: 3 });
    const remove: KeyValueCommand = { op: 'delete', key: 'colour' };
    expect(store.apply(encodeKeyValueCommand(remove), { index: 4 })).toEqual({ previous: 'blue' });
    expect(store.apply(new TextEncoder().encode('{"op":'), { index: 5 })).toEqual({
      error: 'malformed command',
    });
    store.apply(set('shape', 'round'), { index: 6 });
    await storage.close();

    const reopened = new SqliteStorage({ path });
    await reopened.open();
    const again = new SqliteKeyValueStore(reopened);
    again.open();
    expect(again.appliedIndex()).toBe(6);
    expect(again.query('shape')).toBe('round');
    expect(again.entries()).toEqual([['shape', 'round']]);
    await reopened.close();
  });

  it('leaves table and applied index untouched when an entry is applied twice', async () => {
    const storage = await openedOn(applicationDatabase());
    const store = new SqliteKeyValueStore(storage);
    store.open();
    store.apply(set('k', 'first'), { index: 1 });
    expect(() => store.apply(set('k', 'again'), { index: 1 })).toThrow(RaftError);
    expect(store.get('k')).toBe('first');
    expect(store.appliedIndex()).toBe(1);
  });
});
