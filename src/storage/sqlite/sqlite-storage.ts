import type BetterSqlite3 from 'better-sqlite3';
import { BinaryReader, BinaryWriter } from '../../codec/binary.js';
import {
  readClusterSettings,
  readConfiguration,
  writeClusterSettings,
  writeConfiguration,
} from '../../codec/entry-codec.js';
import {
  RaftError,
  type Entry,
  type EntryKind,
  type HardState,
  type SnapshotMeta,
} from '../../core/index.js';
import { copyBytes, copySnapshotMeta } from '../entry-copy.js';
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
import { loadBetterSqlite3 } from './load-better-sqlite3.js';
import { SqliteSnapshotStore, decodeMeta, encodeMeta } from './sqlite-snapshots.js';

/** An open better-sqlite3 database. */
export type SqliteDatabase = BetterSqlite3.Database;

/** Options for {@link SqliteStorage}: exactly one of `path` and `database`. */
export type SqliteStorageOptions = {
  /** Prefix of the tables SqliteStorage creates; letters, digits and underscores. */
  readonly tablePrefix?: string;
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
export const defaultTablePrefix = 'raft_';

interface EntryRow {
  readonly log_index: number;
  readonly term: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

interface StateRow {
  readonly term: number;
  readonly vote: string | null;
  readonly commit_index: number;
  readonly snapshot: Uint8Array;
}

/** The prepared statements, made once per open. */
interface Statements {
  readonly selectState: BetterSqlite3.Statement<[], StateRow>;
  readonly insertState: BetterSqlite3.Statement<[number, string | null, number, Buffer]>;
  readonly updateHardState: BetterSqlite3.Statement<[number, string | null, number]>;
  readonly updateSnapshot: BetterSqlite3.Statement<[Buffer]>;
  readonly insertEntry: BetterSqlite3.Statement<[number, number, string, Buffer]>;
  readonly deleteFrom: BetterSqlite3.Statement<[number]>;
  readonly deleteThrough: BetterSqlite3.Statement<[number]>;
  readonly selectRange: BetterSqlite3.Statement<[number, number], EntryRow>;
  readonly selectTerm: BetterSqlite3.Statement<[number], { term: number }>;
  readonly selectBounds: BetterSqlite3.Statement<[number], { last: number | null; count: number }>;
  readonly selectApplied: BetterSqlite3.Statement<[], { applied_index: number }>;
  readonly upsertApplied: BetterSqlite3.Statement<[number]>;
}

/** better-sqlite3 binds only `Buffer` as a blob; this views the same bytes without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function entryData(entry: Entry): Buffer {
  switch (entry.kind) {
    case 'command':
      return asBuffer(entry.data);
    case 'noop':
      return Buffer.alloc(0);
    case 'configuration': {
      const writer = new BinaryWriter();
      writeConfiguration(writer, entry.configuration);
      return asBuffer(writer.finish());
    }
    case 'settings': {
      const writer = new BinaryWriter();
      writeClusterSettings(writer, entry.settings);
      return asBuffer(writer.finish());
    }
  }
}

function rowToEntry(row: EntryRow): Entry {
  const base = { index: row.log_index, term: row.term };
  switch (row.kind) {
    case 'command':
      return { ...base, kind: 'command', data: copyBytes(row.data) };
    case 'noop':
      return { ...base, kind: 'noop' };
    case 'configuration': {
      const reader = new BinaryReader(row.data);
      const configuration = readConfiguration(reader);
      reader.end();
      return { ...base, kind: 'configuration', configuration };
    }
    case 'settings': {
      const reader = new BinaryReader(row.data);
      const settings = readClusterSettings(reader);
      reader.end();
      return { ...base, kind: 'settings', settings };
    }
    default:
      throw new Error(`unknown entry kind ${String(row.kind)}`);
  }
}

function checkTablePrefix(prefix: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
    throw new RaftError('INVALID_CONFIG', 'tablePrefix may hold only letters, digits and _', {
      details: { tablePrefix: prefix },
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
  #database: SqliteDatabase | null;
  #statements: Statements | null = null;
  #snapshots: SqliteSnapshotStore | null = null;
  #snapshot: SnapshotMeta | null = null;
  #lastIndex = 0;
  #failure: RaftError | null = null;

  constructor(options: SqliteStorageOptions) {
    const path = options.path ?? null;
    const database = options.database ?? null;
    if ((path === null) === (database === null)) {
      throw new RaftError('INVALID_CONFIG', 'SqliteStorage needs exactly one of path and database');
    }
    this.#path = path;
    this.#database = database;
    this.#prefix = checkTablePrefix(options.tablePrefix ?? defaultTablePrefix);
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

  async open(): Promise<StoredState | null> {
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
      this.#createTables(database);
      this.#statements = this.#prepare(database);
      this.#snapshots = new SqliteSnapshotStore(database, this.#prefix);
      this.#snapshots.recover();
      return this.#readStoredState(this.#statements);
    } catch (error) {
      throw storageError('open', error);
    }
  }

  async bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    const statements = this.#readable();
    if (this.#snapshot !== null) {
      throw new RaftError('INVARIANT', 'invalid storage call: bootstrap on a bootstrapped storage');
    }
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
    let rows: EntryRow[];
    try {
      rows = statements.selectRange.all(from, to);
    } catch (error) {
      throw storageError('read', error);
    }
    if (rows.length !== to - from) {
      throw new RaftError('CORRUPT_STORAGE', `entries ${from} to ${to - 1} are not all stored`, {
        details: { from, to, found: rows.length },
      });
    }
    return rows.map((row) => {
      try {
        return rowToEntry(row);
      } catch (error) {
        throw new RaftError('CORRUPT_STORAGE', `entry ${row.log_index} does not decode`, {
          cause: error,
          details: { index: row.log_index },
        });
      }
    });
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

  async close(): Promise<void> {
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

  #createTables(database: SqliteDatabase): void {
    const prefix = this.#prefix;
    database.exec(`
      CREATE TABLE IF NOT EXISTS ${prefix}entries (
        log_index INTEGER PRIMARY KEY,
        term INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${prefix}state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        term INTEGER NOT NULL,
        vote TEXT,
        commit_index INTEGER NOT NULL,
        snapshot BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${prefix}applied (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        applied_index INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${prefix}broken (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        reason TEXT NOT NULL
      );
    `);
  }

  #prepare(database: SqliteDatabase): Statements {
    const prefix = this.#prefix;
    return {
      selectState: database.prepare(
        `SELECT term, vote, commit_index, snapshot FROM ${prefix}state WHERE id = 1`,
      ),
      insertState: database.prepare(
        `INSERT INTO ${prefix}state (id, term, vote, commit_index, snapshot) VALUES (1, ?, ?, ?, ?)`,
      ),
      updateHardState: database.prepare(
        `UPDATE ${prefix}state SET term = ?, vote = ?, commit_index = ? WHERE id = 1`,
      ),
      updateSnapshot: database.prepare(`UPDATE ${prefix}state SET snapshot = ? WHERE id = 1`),
      insertEntry: database.prepare(
        `INSERT INTO ${prefix}entries (log_index, term, kind, data) VALUES (?, ?, ?, ?)`,
      ),
      deleteFrom: database.prepare(`DELETE FROM ${prefix}entries WHERE log_index >= ?`),
      deleteThrough: database.prepare(`DELETE FROM ${prefix}entries WHERE log_index <= ?`),
      selectRange: database.prepare(
        `SELECT log_index, term, kind, data FROM ${prefix}entries
         WHERE log_index >= ? AND log_index < ? ORDER BY log_index`,
      ),
      selectTerm: database.prepare(`SELECT term FROM ${prefix}entries WHERE log_index = ?`),
      selectBounds: database.prepare(
        `SELECT MAX(log_index) AS last, COUNT(*) AS count FROM ${prefix}entries WHERE log_index > ?`,
      ),
      selectApplied: database.prepare(`SELECT applied_index FROM ${prefix}applied WHERE id = 1`),
      upsertApplied: database.prepare(
        `INSERT INTO ${prefix}applied (id, applied_index) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET applied_index = excluded.applied_index`,
      ),
    };
  }

  #readStoredState(statements: Statements): StoredState | null {
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
      this.#failure = storageError(action, error);
      throw this.#failure;
    }
  }

  #bounds(): LogBounds {
    return { snapshotIndex: this.#snapshot?.index ?? 0, lastIndex: this.#lastIndex };
  }

  #readable(): Statements {
    if (this.#statements === null) {
      throw new RaftError('INVARIANT', 'invalid storage call: storage is not open');
    }
    if (this.#failure !== null) {
      throw new RaftError('STORAGE_FAILED', 'storage refuses calls after an earlier failure', {
        cause: this.#failure,
      });
    }
    return this.#statements;
  }

  #writable(): Statements {
    const statements = this.#readable();
    if (this.#snapshot === null) {
      throw new RaftError('INVARIANT', 'invalid storage call: storage is not bootstrapped');
    }
    return statements;
  }
}
