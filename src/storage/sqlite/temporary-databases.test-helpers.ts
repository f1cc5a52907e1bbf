import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqliteDatabase } from './sqlite-storage.js';

const directories: string[] = [];
const databases: SqliteDatabase[] = [];

/** A fresh directory for one test, and the path of a database file in it. */
export function databasePath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-sqlite-'));
  directories.push(directory);
  return join(directory, 'app.db');
}

/** Opens the database at `path` (a fresh one by default); closed by {@link removeDatabases}. */
export function applicationDatabase(path = databasePath()): SqliteDatabase {
  const database = new Database(path);
  databases.push(database);
  return database;
}

/** Closes every database opened here and removes their directories; call it after each test. */
export function removeDatabases(): void {
  for (const database of databases.splice(0)) database.close();
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
}
