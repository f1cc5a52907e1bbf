import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftError } from '../../core/index.js';
import type { SqliteStorage } from './sqlite-storage.js';

/** Bytes per chunk when a database snapshot is streamed out. */
export const sqliteSnapshotChunkBytes = 256 * 1024;

/** Which of the application's tables make up its state (beside the log in the same database). */
export interface SqliteTableSnapshotOptions {
  /** Table names: letters, digits and underscores. */
  readonly tables: readonly string[];
  /** Where the copy is written while it is streamed; the system's temporary directory by default. */
  readonly directory?: string;
}

const schemaName = 'raftkit_snapshot';

function checkTables(tables: readonly string[]): readonly string[] {
  if (tables.length === 0) {
    throw new RaftError('INVALID_CONFIG', 'a SQLite snapshot needs at least one table');
  }
  for (const table of tables) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      throw new RaftError('INVALID_CONFIG', 'table names may hold only letters, digits and _', {
        details: { option: 'tables', value: table },
      });
    }
  }
  return tables;
}

function temporaryFile(directory: string | undefined): { path: string; remove(): void } {
  const folder = mkdtempSync(join(directory ?? tmpdir(), 'raftkit-sqlite-snapshot-'));
  return {
    path: join(folder, `${randomBytes(6).toString('hex')}.sqlite`),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** Runs `work` with `path` attached to the storage's database as {@link schemaName}. */
function withAttached<T>(storage: SqliteStorage, path: string, work: () => T): T {
  const database = storage.database;
  database.prepare(`ATTACH DATABASE ? AS ${schemaName}`).run(path);
  try {
    return work();
  } finally {
    database.exec(`DETACH DATABASE ${schemaName}`);
  }
}

/**
 * A snapshot of an application whose state lives in the same SQLite database as the Raft log: the
 * snapshot is itself a SQLite database holding a copy of the application's `tables`. The copy is
 * made at once, in one read transaction (the state exactly as of the last applied entry, which is
 * what `StateMachine.snapshot()` must capture), into a file; the returned stream reads that file
 * in chunks and deletes it at the end, so the state machine keeps applying while it is sent and no
 * serialization code is needed. Use it as the state machine's `snapshot()`; see
 * {@link restoreSqliteTables} for `restore`.
 */
export function snapshotSqliteTables(
  storage: SqliteStorage,
  options: SqliteTableSnapshotOptions,
): AsyncIterable<Uint8Array> {
  const tables = checkTables(options.tables);
  const file = temporaryFile(options.directory);
  try {
    withAttached(storage, file.path, () =>
      storage.database.transaction(() => {
        for (const table of tables) {
          storage.database.exec(
            `CREATE TABLE ${schemaName}.${table} AS SELECT * FROM main.${table}`,
          );
        }
      })(),
    );
  } catch (error) {
    file.remove();
    throw new RaftError('STORAGE_FAILED', 'copying the tables for a snapshot failed', {
      cause: error,
    });
  }
  return streamFile(file);
}

async function* streamFile(file: { path: string; remove(): void }): AsyncGenerator<Uint8Array> {
  try {
    const handle = await open(file.path, 'r');
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafe(sqliteSnapshotChunkBytes);
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  } finally {
    file.remove();
  }
}

/**
 * Replaces the application's `tables` with a snapshot's (one {@link snapshotSqliteTables} made, on
 * this server or on the leader) and records `index` as applied, all in one transaction: a crash
 * leaves either the old state with its old applied index or the new one with the snapshot's. The
 * received bytes are written to a file first, which is then attached and copied from. Use it as
 * the state machine's `restore(chunks, snapshot)` with `snapshot.index`.
 */
export async function restoreSqliteTables(
  storage: SqliteStorage,
  chunks: AsyncIterable<Uint8Array>,
  options: SqliteTableSnapshotOptions & { readonly index: number },
): Promise<void> {
  const tables = checkTables(options.tables);
  const file = temporaryFile(options.directory);
  try {
    const handle = await open(file.path, 'w');
    try {
      for await (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    withAttached(storage, file.path, () =>
      storage.applyInTransaction(options.index, (database) => {
        for (const table of tables) {
          database.exec(`DELETE FROM main.${table}`);
          database.exec(`INSERT INTO main.${table} SELECT * FROM ${schemaName}.${table}`);
        }
      }),
    );
  } finally {
    file.remove();
  }
}
