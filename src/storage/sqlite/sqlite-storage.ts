import { RaftError, type Entry, type HardState, type SnapshotMeta } from '../../core/index.js';
import {
  cleanStopRecord,
  elapsedSinceCleanStop,
  machineStopClock,
  type StopClock,
} from '../clean-stop-record.js';
import { copySnapshotMeta } from '../entry-copy.js';
import type {
  LogStorage,
  SaveBatch,
  SnapshotWriter,
  StoredSnapshot,
  StoredState,
} from '../log-storage.js';
import {
  assertCompaction,
  assertEntriesRange,
  assertSaveBatch,
  keepsEntriesAfterCompaction,
  type LogBounds,
} from '../storage-checks.js';
import { StorageGuard, assertBootstrapped, assertNotBootstrapped } from '../storage-guard.js';
import { loadBetterSqlite3 } from './load-better-sqlite3.js';
import {
  createTables,
  entryData,
  prepareStatements,
  rowToEntry,
  type EntryRow,
  type SqliteDatabase,
  type Statements,
} from './sqlite-schema.js';
import { SqliteSnapshotStore, decodeMeta, encodeMeta } from './sqlite-snapshots.js';

export type { SqliteDatabase } from './sqlite-schema.js';

/** Options for {@link SqliteStorage}: exactly one of `path` and `database`. */
export type SqliteStorageOptions = {
  /** Prefix of the tables SqliteStorage creates; letters, digits and underscores. */
  readonly tablePrefix?: string;
  /**
   * What a clean stop is recorded against (see `StoredState.closedForMs`): by default this
   * machine's boot id and monotonic clock; tests inject their own.
   */
  readonly stopClock?: StopClock;
} & (
  | {
      /** A database file SqliteStorage opens on `open` and closes on `close`. */
      readonly path: string;
      readonly database?: never;
    }
  | {
      /**
       * The application's own open database. SqliteStorage switches it to WAL mode with
       * `synchronous = FULL` and never closes it.
       */
      readonly database: SqliteDatabase;
      readonly path?: never;
    }
);

/** The default table prefix: tables `raft_entries`, `raft_state`, `raft_applied`. */
export const sqliteStorageDefaults = Object.freeze({ tablePrefix: 'raft_' });

function checkTablePrefix(prefix: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
    throw new RaftError('INVALID_CONFIG', 'tablePrefix may hold only letters, digits and _', {
      details: { option: 'tablePrefix', value: prefix },
    });
  }
  return prefix;
}

function sqliteErrorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/** Maps a failure inside SQLite to the error the runtime acts on. */
function storageError(action: string, error: unknown): RaftError {
  if (error instanceof RaftError) return error;
  const code = sqliteErrorCode(error);
  const corrupt = code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB';
  return new RaftError(
    corrupt ? 'CORRUPT_STORAGE' : 'STORAGE_FAILED',
    `SQLite ${action} failed (${code})`,
    { cause: error },
  );
}

/**
 * A {@link LogStorage} in SQLite through better-sqlite3 (an optional peer dependency): WAL journal,
 * `synchronous = FULL`, prepared statements, one transaction per save batch.
 *
 * The point of keeping the log in SQLite is that the application's own state can live in the same
 * database: {@link SqliteStorage.applyInTransaction} runs the application's writes and records the
 * applied index in one transaction, so after any crash the state and the applied index agree and no
 * entry is ever applied twice or skipped.
 */
export class SqliteStorage implements LogStorage {
  readonly #path: string | null;
  readonly #prefix: string;
  readonly #stopClock: StopClock;
  #database: SqliteDatabase | null;
  #statements: Statements | null = null;
  #opening: Promise<StoredState | null> | null = null;
  #snapshots: SqliteSnapshotStore | null = null;
  #snapshot: SnapshotMeta | null = null;
  #lastIndex = 0;
  readonly #guard = new StorageGuard();

  constructor(options: SqliteStorageOptions) {
    const path = options.path ?? null;
    const database = options.database ?? null;
    if ((path === null) === (database === null)) {
      throw new RaftError('INVALID_CONFIG', 'SqliteStorage needs exactly one of path and database');
    }
    this.#path = path;
    this.#database = database;
    this.#prefix = checkTablePrefix(options.tablePrefix ?? sqliteStorageDefaults.tablePrefix);
    this.#stopClock = options.stopClock ?? machineStopClock;
  }

  /**
   * The open database, for the application's own tables and transactions. Throws before `open`
   * when SqliteStorage opens the file itself.
   */
  get database(): SqliteDatabase {
    if (this.#database === null) {
      throw new RaftError('INVARIANT', 'invalid storage call: the database is opened by open()');
    }
    return this.#database;
  }

  open(): Promise<StoredState | null> {
    // Overlapping calls share one open: each would otherwise make its own connection, and the
    // one overwritten would never be closed.
    this.#opening ??= this.#open().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #open(): Promise<StoredState | null> {
    // Opening again reads the state again and nothing more: recovery would discard a snapshot
    // still being written, and the clean-stop record was taken by the first open.
    if (this.#guard.isOpen && this.#statements !== null) {
      return this.#readStoredState(this.#statements, undefined);
    }
    if (this.#database === null) {
      const Database = await loadBetterSqlite3();
      try {
        this.#database = new Database(this.#path ?? '');
      } catch (error) {
        throw storageError(`opening ${this.#path}`, error);
      }
    }
    const database = this.#database;
    try {
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = FULL');
      // Everything open writes commits at once, before anything is read: the clean-stop record
      // is gone before this resolves, whatever the stored state turns out to be.
      const { statements, closedForMs } = database.transaction(() => {
        createTables(database, this.#prefix);
        const prepared = prepareStatements(database, this.#prefix);
        this.#snapshots = new SqliteSnapshotStore(database, this.#prefix);
        this.#snapshots.recover();
        return { statements: prepared, closedForMs: this.#takeCleanStop(prepared) };
      })();
      this.#statements = statements;
      this.#guard.opened();
      return this.#readStoredState(statements, closedForMs);
    } catch (error) {
      throw storageError('open', error);
    }
  }

  async bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    const statements = this.#readable();
    assertNotBootstrapped(this.#snapshot !== null);
    assertCompaction(snapshot, { snapshotIndex: 0, lastIndex: 0 });
    this.#write('bootstrap', () =>
      statements.insertState.run(
        hardState.term,
        hardState.vote,
        hardState.commit,
        encodeMeta(snapshot),
      ),
    );
    this.#snapshot = copySnapshotMeta(snapshot);
    this.#lastIndex = snapshot.index;
    await Promise.resolve();
  }

  async save(batch: SaveBatch): Promise<void> {
    const statements = this.#writable();
    assertSaveBatch(batch, this.#bounds());
    const entries = batch.entries ?? [];
    const hardState = batch.hardState;
    const first = entries[0];
    this.#write('save', () => {
      if (first !== undefined && first.index <= this.#lastIndex) {
        statements.deleteFrom.run(first.index);
      }
      for (const entry of entries) {
        statements.insertEntry.run(entry.index, entry.term, entry.kind, entryData(entry));
      }
      if (hardState !== undefined) {
        statements.updateHardState.run(hardState.term, hardState.vote, hardState.commit);
      }
    });
    if (first !== undefined) this.#lastIndex = first.index + entries.length - 1;
    await Promise.resolve();
  }

  async entries(from: number, to: number): Promise<Entry[]> {
    const statements = this.#readable();
    assertEntriesRange(from, to, this.#bounds());
    await Promise.resolve();
    // Rows are decoded as they are stepped through, so a long range never holds its rows and its
    // entries in memory at once.
    const entries: Entry[] = [];
    try {
      for (const row of statements.selectRange.iterate(from, to)) entries.push(decodeRow(row));
    } catch (error) {
      if (error instanceof RaftError) throw error;
      throw storageError('read', error);
    }
    if (entries.length !== to - from) {
      throw new RaftError('CORRUPT_STORAGE', `entries ${from} to ${to - 1} are not all stored`, {
        details: { from, to, found: entries.length },
      });
    }
    return entries;
  }

  async compact(snapshot: SnapshotMeta): Promise<void> {
    const statements = this.#writable();
    const bounds = this.#bounds();
    assertCompaction(snapshot, bounds);
    this.#write('compact', () => {
      const termAtIndex =
        snapshot.index === bounds.snapshotIndex
          ? this.#snapshot?.term
          : statements.selectTerm.get(snapshot.index)?.term;
      const keep = keepsEntriesAfterCompaction(snapshot, bounds, termAtIndex);
      statements.deleteThrough.run(keep ? snapshot.index : Number.MAX_SAFE_INTEGER);
      statements.updateSnapshot.run(encodeMeta(snapshot));
      if (!keep) this.#lastIndex = snapshot.index;
    });
    this.#snapshot = copySnapshotMeta(snapshot);
    await Promise.resolve();
  }

  latestSnapshot(): Promise<StoredSnapshot | null> {
    return this.#withSnapshots((store) => store.latest());
  }

  createSnapshot(meta: SnapshotMeta): Promise<SnapshotWriter> {
    return this.#withSnapshots((store) => store.create(meta));
  }

  readSnapshot(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    return this.#withSnapshots((store) => store.read(index, offset, bytesMax));
  }

  /** Runs a snapshot call on the open store; SQLite errors reject like every other call's. */
  async #withSnapshots<Result>(call: (store: SqliteSnapshotStore) => Result): Promise<Result> {
    this.#readable();
    await Promise.resolve();
    try {
      return call(this.#snapshots!);
    } catch (error) {
      throw storageError('snapshot', error);
    }
  }

  /**
   * Writes the clean-stop record (docs/storage.md) in the storage's database: the boot id and the
   * monotonic time, which the next open reads and deletes. Committed like any write, though it
   * need not be: a power loss that could lose it also changes the boot id, which voids it.
   */
  async recordCleanStop(): Promise<void> {
    const statements = this.#readable();
    const record = cleanStopRecord(this.#stopClock);
    if (record !== null) {
      this.#write('recordCleanStop', () => statements.upsertCleanStop.run(record));
    }
    await Promise.resolve();
  }

  async close(): Promise<void> {
    this.#guard.closed();
    this.#statements = null;
    this.#snapshots = null;
    this.#snapshot = null;
    if (this.#path !== null && this.#database !== null) {
      this.#database.close();
      this.#database = null;
    }
    await Promise.resolve();
  }

  /**
   * Runs `work` and records `index` as the last applied log index, in one transaction on the
   * storage's database, and returns what `work` returned. If `work` throws, neither its writes nor
   * the index are kept. Indexes must increase: applying an entry twice is refused with
   * `INVARIANT`.
   */
  applyInTransaction<Result>(index: number, work: (database: SqliteDatabase) => Result): Result {
    const statements = this.#readable();
    const database = this.database;
    return database.transaction(() => {
      const applied = statements.selectApplied.get()?.applied_index ?? 0;
      if (!Number.isSafeInteger(index) || index <= applied) {
        throw new RaftError('INVARIANT', `entry ${index} applied after entry ${applied}`, {
          details: { index, appliedIndex: applied },
        });
      }
      const result = work(database);
      statements.upsertApplied.run(index);
      return result;
    })();
  }

  /** The last index recorded by {@link SqliteStorage.applyInTransaction}, 0 if none. */
  appliedIndex(): number {
    return this.#readable().selectApplied.get()?.applied_index ?? 0;
  }

  /**
   * Deletes the clean-stop record and returns how long ago it says the previous holder stopped,
   * if it is to be believed. Deleted whatever it says: it speaks for the previous holder only,
   * and must not outlive this one into a crash.
   */
  #takeCleanStop(statements: Statements): number | undefined {
    const record = statements.takeCleanStop.get()?.record;
    return typeof record === 'string' ? elapsedSinceCleanStop(record, this.#stopClock) : undefined;
  }

  #readStoredState(statements: Statements, closedForMs: number | undefined): StoredState | null {
    const row = statements.selectState.get();
    if (row === undefined) {
      this.#snapshot = null;
      return null;
    }
    const snapshot = decodeMeta(row.snapshot);
    const bounds = statements.selectBounds.get(snapshot.index);
    const last = bounds?.last ?? snapshot.index;
    // Entries are consecutive after the marker: a gap means rows were lost or edited.
    if (bounds !== undefined && bounds.count !== last - snapshot.index) {
      throw new RaftError('CORRUPT_STORAGE', `the entries after ${snapshot.index} have gaps`, {
        details: { snapshotIndex: snapshot.index, lastIndex: last, count: bounds.count },
      });
    }
    this.#snapshot = snapshot;
    this.#lastIndex = last;
    const broken = this.#selectBroken();
    return {
      hardState: { term: row.term, vote: row.vote, commit: row.commit_index },
      snapshot: copySnapshotMeta(snapshot),
      lastIndex: last,
      ...(broken === null ? {} : { broken }),
      ...(closedForMs === undefined ? {} : { closedForMs }),
    };
  }

  #selectBroken(): string | null {
    const row = this.database
      .prepare(`SELECT reason FROM ${this.#prefix}broken WHERE id = 1`)
      .get() as { reason: string } | undefined;
    return row?.reason ?? null;
  }

  /** Durably records (or with `null` clears) the broken mark that `open` reports. */
  async setBroken(reason: string | null): Promise<void> {
    this.#readable();
    const prefix = this.#prefix;
    this.#write('setBroken', () => {
      if (reason === null) {
        this.database.prepare(`DELETE FROM ${prefix}broken WHERE id = 1`).run();
      } else {
        this.database
          .prepare(
            `INSERT INTO ${prefix}broken (id, reason) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET reason = excluded.reason`,
          )
          .run(reason);
      }
    });
    await Promise.resolve();
  }

  /** Runs `work` in one transaction; a failure makes the storage refuse further writes. */
  #write(action: string, work: () => void): void {
    try {
      this.database.transaction(work)();
    } catch (error) {
      if (error instanceof RaftError && error.code === 'INVARIANT') throw error;
      throw this.#guard.fail(storageError(action, error));
    }
  }

  #bounds(): LogBounds {
    return { snapshotIndex: this.#snapshot?.index ?? 0, lastIndex: this.#lastIndex };
  }

  #readable(): Statements {
    this.#guard.assertUsable();
    return this.#statements!;
  }

  #writable(): Statements {
    const statements = this.#readable();
    assertBootstrapped(this.#snapshot);
    return statements;
  }
}

/** Decodes a stored row; a row that does not decode is corruption, reported with its index. */
function decodeRow(row: EntryRow): Entry {
  try {
    return rowToEntry(row);
  } catch (error) {
    throw new RaftError('CORRUPT_STORAGE', `entry ${row.log_index} does not decode`, {
      cause: error,
      details: { index: row.log_index },
    });
  }
}
