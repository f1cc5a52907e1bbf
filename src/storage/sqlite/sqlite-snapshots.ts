import type BetterSqlite3 from 'better-sqlite3';
import { BinaryReader, BinaryWriter } from '../../codec/binary.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../../codec/entry-codec.js';
import { RaftError, type SnapshotMeta } from '../../core/index.js';
import { copySnapshotMeta } from '../entry-copy.js';
import type { SnapshotWriter, StoredSnapshot } from '../log-storage.js';
import { assertChecksum, assertPublishable, assertSnapshotRead } from '../storage-checks.js';

/** Bytes gathered before one row is inserted: few rows, few commits, bounded memory. */
const rowBytesMax = 1024 * 1024;

interface SnapshotRow {
  readonly id: number;
  readonly meta: Uint8Array;
  readonly bytes: number;
  readonly checksum: number;
}

interface ChunkRow {
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * Snapshot data of a SqliteStorage, in two tables of the same database: one row per snapshot
 * (published or being written) and its data in rows of up to 1 MiB. Publishing is one
 * transaction that marks the new snapshot published and deletes the previous one, so a crash
 * leaves one or the other. Rows of a snapshot never published are what a crash left mid-write and
 * are deleted when the storage opens.
 */
export class SqliteSnapshotStore {
  readonly #database: BetterSqlite3.Database;
  readonly #prefix: string;

  constructor(database: BetterSqlite3.Database, prefix: string) {
    this.#database = database;
    this.#prefix = prefix;
    database.exec(`
      CREATE TABLE IF NOT EXISTS ${prefix}snapshots (
        id INTEGER PRIMARY KEY,
        snapshot_index INTEGER NOT NULL,
        published INTEGER NOT NULL,
        meta BLOB NOT NULL,
        bytes INTEGER NOT NULL,
        checksum INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${prefix}snapshot_data (
        snapshot_id INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (snapshot_id, offset)
      );
    `);
  }

  /** Deletes what a crash left of snapshots never published. Called by open. */
  recover(): void {
    const prefix = this.#prefix;
    this.#database.transaction(() => {
      this.#database
        .prepare(
          `DELETE FROM ${prefix}snapshot_data WHERE snapshot_id NOT IN
           (SELECT id FROM ${prefix}snapshots WHERE published = 1)`,
        )
        .run();
      this.#database.prepare(`DELETE FROM ${prefix}snapshots WHERE published = 0`).run();
    })();
  }

  latest(): StoredSnapshot | null {
    const row = this.#publishedRow();
    return row === undefined ? null : toStored(row);
  }

  create(meta: SnapshotMeta): SnapshotWriter {
    const prefix = this.#prefix;
    const database = this.#database;
    const storedMeta = copySnapshotMeta(meta);
    const id = Number(
      database
        .prepare(
          `INSERT INTO ${prefix}snapshots (snapshot_index, published, meta, bytes, checksum)
           VALUES (?, 0, ?, 0, 0)`,
        )
        .run(storedMeta.index, encodeMeta(storedMeta)).lastInsertRowid,
    );
    const insert = database.prepare(
      `INSERT INTO ${prefix}snapshot_data (snapshot_id, offset, data) VALUES (?, ?, ?)`,
    );
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let flushed = 0;
    let closed = false;
    const flush = (): void => {
      if (pendingBytes === 0) return;
      insert.run(id, flushed, Buffer.concat(pending));
      flushed += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    const assertOpen = (): void => {
      if (closed) throw new RaftError('INVARIANT', 'invalid storage call: snapshot writer closed');
    };
    return {
      write: async (chunk) => {
        assertOpen();
        pending.push(chunk.slice());
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= rowBytesMax) flush();
        await Promise.resolve();
      },
      publish: async (checksum) => {
        assertOpen();
        assertChecksum(checksum);
        assertPublishable(storedMeta.index, this.latest()?.meta.index ?? null);
        flush();
        closed = true;
        database.transaction(() => {
          const previous = this.#publishedRow();
          if (previous !== undefined) this.#remove(previous.id);
          database
            .prepare(
              `UPDATE ${prefix}snapshots SET published = 1, bytes = ?, checksum = ? WHERE id = ?`,
            )
            .run(flushed, checksum, id);
        })();
        await Promise.resolve();
        return { meta: copySnapshotMeta(storedMeta), bytes: flushed, checksum };
      },
      abort: async () => {
        closed = true;
        pending = [];
        database.transaction(() => this.#remove(id))();
        await Promise.resolve();
      },
    };
  }

  read(index: number, offset: number, bytesMax: number): Uint8Array | null {
    assertSnapshotRead(index, offset, bytesMax);
    const row = this.#publishedRow();
    if (row === undefined || decodeMeta(row.meta).index !== index) return null;
    const end = Math.min(offset + bytesMax, row.bytes);
    if (offset >= end) return new Uint8Array(0);
    const chunks = this.#database
      .prepare(
        `SELECT offset, data FROM ${this.#prefix}snapshot_data
         WHERE snapshot_id = ? AND offset < ? AND offset + length(data) > ? ORDER BY offset`,
      )
      .all(row.id, end, offset) as ChunkRow[];
    const result = new Uint8Array(end - offset);
    for (const chunk of chunks) {
      const from = Math.max(offset, chunk.offset);
      const to = Math.min(end, chunk.offset + chunk.data.byteLength);
      result.set(chunk.data.subarray(from - chunk.offset, to - chunk.offset), from - offset);
    }
    return result;
  }

  #publishedRow(): SnapshotRow | undefined {
    return this.#database
      .prepare(
        `SELECT id, meta, bytes, checksum FROM ${this.#prefix}snapshots
         WHERE published = 1 ORDER BY snapshot_index DESC LIMIT 1`,
      )
      .get() as SnapshotRow | undefined;
  }

  #remove(id: number): void {
    this.#database
      .prepare(`DELETE FROM ${this.#prefix}snapshot_data WHERE snapshot_id = ?`)
      .run(id);
    this.#database.prepare(`DELETE FROM ${this.#prefix}snapshots WHERE id = ?`).run(id);
  }
}

/** Encodes snapshot metadata as a blob (the log's marker row uses the same encoding). */
export function encodeMeta(meta: SnapshotMeta): Buffer {
  const writer = new BinaryWriter();
  writeSnapshotMeta(writer, meta);
  const bytes = writer.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a blob written by {@link encodeMeta}. */
export function decodeMeta(bytes: Uint8Array): SnapshotMeta {
  const reader = new BinaryReader(bytes);
  const meta = readSnapshotMeta(reader);
  reader.end();
  return meta;
}

function toStored(row: SnapshotRow): StoredSnapshot {
  return { meta: decodeMeta(row.meta), bytes: row.bytes, checksum: row.checksum };
}
