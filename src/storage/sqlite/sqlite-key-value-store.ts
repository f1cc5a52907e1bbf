import type BetterSqlite3 from 'better-sqlite3';
import { RaftError } from '../../core/index.js';
import type { SqliteStorage } from './sqlite-storage.js';
import { restoreSqliteTables, snapshotSqliteTables } from './sqlite-table-snapshot.js';

interface KeyValueStatements {
  readonly upsert: BetterSqlite3.Statement<[string, string]>;
  readonly remove: BetterSqlite3.Statement<[string]>;
  readonly select: BetterSqlite3.Statement<[string], { value: string }>;
  readonly selectAll: BetterSqlite3.Statement<[], { key: string; value: string }>;
}

/** A command for {@link SqliteKeyValueStore}. */
export type KeyValueCommand =
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string };

/** What applying a command returns: the value the key held before, or why the command was bad. */
export type KeyValueResult = { readonly previous: string | null } | { readonly error: string };

/** Where a committed entry sits in the log (the runtime passes it to `apply` and `skip`). */
export interface KeyValueApplyContext {
  readonly index: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a command for proposal. */
export function encodeKeyValueCommand(command: KeyValueCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

function decodeCommand(bytes: Uint8Array): KeyValueCommand | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { op, key, value } = parsed as Record<string, unknown>;
  if (typeof key !== 'string') return null;
  if (op === 'delete') return { op, key };
  if (op === 'set' && typeof value === 'string') return { op, key, value };
  return null;
}

/**
 * A tiny replicated key-value store kept in the same SQLite database as the Raft log, showing the
 * same-transaction pattern: each `apply` writes the table and the applied index in one
 * transaction (through {@link SqliteStorage.applyInTransaction}), so after a crash the table holds
 * exactly the effects of entries up to `appliedIndex()`: none lost, none doubled.
 *
 * Its snapshot is the database itself: a copy of its table in a SQLite file, made with
 * {@link snapshotSqliteTables} and restored with {@link restoreSqliteTables}.
 *
 * Its methods match the runtime's state machine shape (`apply`, `skip`, `query`, `appliedIndex`,
 * `snapshot`, `restore`).
 */
export class SqliteKeyValueStore {
  readonly #storage: SqliteStorage;
  readonly #table: string;
  #statements: KeyValueStatements | null = null;

  /** `tableName` must be letters, digits and underscores; it defaults to `kv`. */
  constructor(storage: SqliteStorage, options: { tableName?: string } = {}) {
    const table = options.tableName ?? 'kv';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      throw new RaftError('INVALID_CONFIG', 'tableName may hold only letters, digits and _', {
        details: { option: 'tableName', value: table },
      });
    }
    this.#storage = storage;
    this.#table = table;
  }

  /** Creates the table if needed; call after the storage's `open`. */
  open(): void {
    const database = this.#storage.database;
    const table = this.#table;
    database.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    );
    this.#statements = {
      upsert: database.prepare(
        `INSERT INTO ${table} (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
      remove: database.prepare(`DELETE FROM ${table} WHERE key = ?`),
      select: database.prepare(`SELECT value FROM ${table} WHERE key = ?`),
      selectAll: database.prepare(`SELECT key, value FROM ${table} ORDER BY key`),
    };
  }

  /** Applies one committed command. A malformed command is applied as an error result. */
  apply(command: Uint8Array, context: KeyValueApplyContext): KeyValueResult {
    const decoded = decodeCommand(command);
    const statements = this.#opened();
    return this.#storage.applyInTransaction(context.index, (): KeyValueResult => {
      if (decoded === null) return { error: 'malformed command' };
      const previous = statements.select.get(decoded.key)?.value ?? null;
      if (decoded.op === 'set') statements.upsert.run(decoded.key, decoded.value);
      else statements.remove.run(decoded.key);
      return { previous };
    });
  }

  /** Records a non-command entry as applied, so the applied index stays exact. */
  skip(context: KeyValueApplyContext): void {
    this.#storage.applyInTransaction(context.index, () => undefined);
  }

  /** A copy of the table as of the last applied entry, streamed from a SQLite file. */
  snapshot(): AsyncIterable<Uint8Array> {
    this.#opened();
    return snapshotSqliteTables(this.#storage, { tables: [this.#table] });
  }

  /** Replaces the table with a snapshot's and records its index as applied, in one transaction. */
  restore(chunks: AsyncIterable<Uint8Array>, snapshot: KeyValueApplyContext): Promise<void> {
    this.#opened();
    return restoreSqliteTables(this.#storage, chunks, {
      tables: [this.#table],
      index: snapshot.index,
    });
  }

  /** The last applied index, stored with the table. */
  appliedIndex(): number {
    return this.#storage.appliedIndex();
  }

  /** The value of `key`, if any. */
  get(key: string): string | undefined {
    return this.#opened().select.get(key)?.value;
  }

  /** Answers a read: the value of a key. */
  query(key: string): string | undefined {
    return this.get(key);
  }

  /** Every key and value, in key order. */
  entries(): [string, string][] {
    return this.#opened()
      .selectAll.all()
      .map((row) => [row.key, row.value]);
  }

  #opened(): KeyValueStatements {
    if (this.#statements === null) {
      throw new RaftError('INVARIANT', 'the key-value store is not open');
    }
    return this.#statements;
  }
}
