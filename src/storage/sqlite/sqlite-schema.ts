import type BetterSqlite3 from 'better-sqlite3';
import { BinaryReader, BinaryWriter } from '../../codec/binary.js';
import {
  readClusterSettings,
  readConfiguration,
  writeClusterSettings,
  writeConfiguration,
} from '../../codec/entry-codec.js';
import type { Entry, EntryKind } from '../../core/index.js';
import { copyBytes } from '../entry-copy.js';

/**
 * The tables SqliteStorage keeps (all named with the storage's prefix), the statements it runs on
 * them, and how an entry maps to a row and back.
 */

/** An open better-sqlite3 database. */
export type SqliteDatabase = BetterSqlite3.Database;

/** One row of the entries table. */
export interface EntryRow {
  readonly log_index: number;
  readonly term: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** The single row of the state table: hard state and compaction marker. */
export interface StateRow {
  readonly term: number;
  readonly vote: string | null;
  readonly commit_index: number;
  readonly snapshot: Uint8Array;
}

/** The prepared statements, made once per open. */
export interface Statements {
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
  readonly takeCleanStop: BetterSqlite3.Statement<[], { record: unknown }>;
  readonly upsertCleanStop: BetterSqlite3.Statement<[string]>;
}

/** better-sqlite3 binds only `Buffer` as a blob; this views the same bytes without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The row's `data` column for an entry: the command bytes, or the encoded configuration/settings. */
export function entryData(entry: Entry): Buffer {
  switch (entry.kind) {
    case 'command':
    case 'session':
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

/** The entry a row holds; throws when the row does not decode. */
export function rowToEntry(row: EntryRow): Entry {
  const base = { index: row.log_index, term: row.term };
  switch (row.kind) {
    case 'command':
      return { ...base, kind: 'command', data: copyBytes(row.data) };
    case 'session':
      return { ...base, kind: 'session', data: copyBytes(row.data) };
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

/**
 * Creates the storage's tables if they do not exist yet. A database made by an earlier version
 * lacks only tables added since, which this creates as it would on a new one: no table ever
 * changes its columns, so the schema needs no version.
 */
export function createTables(database: SqliteDatabase, prefix: string): void {
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
    CREATE TABLE IF NOT EXISTS ${prefix}stopped (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      record TEXT NOT NULL
    );
  `);
}

/** Prepares every statement the storage runs, once per open. */
export function prepareStatements(database: SqliteDatabase, prefix: string): Statements {
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
    // The column is read as it is: a row edited by hand may hold any type, and is then no record.
    takeCleanStop: database.prepare(`DELETE FROM ${prefix}stopped WHERE id = 1 RETURNING record`),
    upsertCleanStop: database.prepare(
      `INSERT INTO ${prefix}stopped (id, record) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET record = excluded.record`,
    ),
  };
}
