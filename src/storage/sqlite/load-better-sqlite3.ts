import type BetterSqlite3 from 'better-sqlite3';
import { RaftError } from '../../core/index.js';

/** The better-sqlite3 constructor, loaded on first use. */
export type DatabaseConstructor = typeof BetterSqlite3;

let loaded: Promise<DatabaseConstructor> | null = null;

/**
 * Loads better-sqlite3, an optional peer dependency. Loading it lazily keeps
 * `raftkit/storage/sqlite` importable without it; only opening a database by path needs it, and
 * then a missing package is reported as a RaftError that says what to install.
 */
export function loadBetterSqlite3(): Promise<DatabaseConstructor> {
  loaded ??= import('better-sqlite3').then(
    (module) => module.default,
    (error: unknown) => {
      loaded = null;
      throw new RaftError(
        'INVALID_CONFIG',
        'SqliteStorage needs the optional peer dependency better-sqlite3: npm install better-sqlite3',
        { cause: error },
      );
    },
  );
  return loaded;
}
