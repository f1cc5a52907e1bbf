import { join } from 'node:path';
import { BinaryReader, BinaryWriter } from '../../codec/binary.js';
import { readSnapshotMeta, writeSnapshotMeta } from '../../codec/entry-codec.js';
import { RaftError, type SnapshotMeta } from '../../core/index.js';
import { copySnapshotMeta } from '../entry-copy.js';
import type { SnapshotWriter, StoredSnapshot } from '../log-storage.js';
import { assertChecksum, assertPublishable, assertSnapshotRead } from '../storage-checks.js';
import type { StorageFile, StorageFileSystem } from './file-system.js';

/**
 * Snapshot data of a FileStorage, beside its log in the same directory.
 *
 * A snapshot is one file, `snapshot-<index>.snap`: the data, then a footer (the metadata, size and
 * checksum), then `u32 footerLength | u32 magic`. It is written as `snapshot-<index>-<n>.partial`,
 * synced, and renamed into place, then the directory is synced: the rename is the publish, so a
 * crash leaves either the previous snapshot or the new one, never a torn one. Partial files are
 * what a crash left behind mid-write (a half-taken or half-received snapshot) and are deleted
 * when the storage opens; so are snapshots older than the newest.
 */
export class FileSnapshotStore {
  readonly #fileSystem: StorageFileSystem;
  readonly #directory: string;
  #latest: StoredSnapshot | null = null;
  #writers = 0;

  constructor(fileSystem: StorageFileSystem, directory: string) {
    this.#fileSystem = fileSystem;
    this.#directory = directory;
  }

  /** Finds the newest snapshot and removes partial and superseded files. Called by open. */
  async recover(): Promise<void> {
    const names = await this.#fileSystem.list(this.#directory);
    const published = names
      .map((name) => ({ name, index: publishedIndex(name) }))
      .filter((file): file is { name: string; index: number } => file.index !== null)
      .sort((a, b) => b.index - a.index);
    this.#latest = published[0] === undefined ? null : await this.#readFooter(published[0].name);
    const stale = [
      ...names.filter((name) => name.startsWith('snapshot-') && name.endsWith('.partial')),
      ...published.slice(1).map((file) => file.name),
    ];
    await this.#removeAll(stale);
  }

  latest(): StoredSnapshot | null {
    return this.#latest === null ? null : copyStored(this.#latest);
  }

  async create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    const storedMeta = copySnapshotMeta(meta);
    const partialName = `snapshot-${pad(meta.index)}-${++this.#writers}.partial`;
    const file = await this.#fileSystem.open(join(this.#directory, partialName), 'replace');
    let bytes = 0;
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) throw new RaftError('INVARIANT', 'invalid storage call: snapshot writer closed');
      closed = true;
      await file.close();
    };
    return {
      write: async (chunk) => {
        if (closed)
          throw new RaftError('INVARIANT', 'invalid storage call: snapshot writer closed');
        await file.write(chunk, bytes);
        bytes += chunk.byteLength;
      },
      publish: async (checksum) => {
        assertChecksum(checksum);
        assertPublishable(storedMeta.index, this.#latest?.meta.index ?? null);
        const stored: StoredSnapshot = { meta: storedMeta, bytes, checksum };
        await file.write(encodeFooter(stored), bytes);
        await file.datasync();
        await close();
        const previous = this.#latest;
        const finalName = snapshotFileName(storedMeta.index);
        await this.#fileSystem.rename(
          join(this.#directory, partialName),
          join(this.#directory, finalName),
        );
        await this.#fileSystem.syncDirectory(this.#directory);
        this.#latest = stored;
        if (previous !== null) await this.#removeAll([snapshotFileName(previous.meta.index)]);
        return copyStored(stored);
      },
      abort: async () => {
        if (!closed) await close();
        await this.#removeAll([partialName]);
      },
    };
  }

  async read(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    assertSnapshotRead(index, offset, bytesMax);
    const latest = this.#latest;
    if (latest === null || latest.meta.index !== index) return null;
    let file: StorageFile;
    try {
      file = await this.#fileSystem.open(join(this.#directory, snapshotFileName(index)), 'read');
    } catch (error) {
      // Replaced and removed between the check and the open.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const length = Math.max(0, Math.min(bytesMax, latest.bytes - offset));
      const buffer = new Uint8Array(length);
      const read = await file.read(buffer, offset);
      return buffer.subarray(0, read);
    } finally {
      await file.close();
    }
  }

  async #readFooter(name: string): Promise<StoredSnapshot> {
    const path = join(this.#directory, name);
    const file = await this.#fileSystem.open(path, 'read');
    const corrupt = (reason: string): RaftError =>
      new RaftError('CORRUPT_STORAGE', `${path} is damaged: ${reason}`, {
        details: { file: path, offset: 0 },
      });
    try {
      const size = await file.size();
      if (size < trailerBytes) throw corrupt('too short for a footer');
      const trailer = new Uint8Array(trailerBytes);
      await file.read(trailer, size - trailerBytes);
      const trailerReader = new BinaryReader(trailer);
      const footerBytes = trailerReader.u32();
      if (trailerReader.u32() !== snapshotMagic || footerBytes > size - trailerBytes) {
        throw corrupt('no snapshot footer');
      }
      const footer = new Uint8Array(footerBytes);
      await file.read(footer, size - trailerBytes - footerBytes);
      const reader = new BinaryReader(footer);
      const stored: StoredSnapshot = {
        meta: readSnapshotMeta(reader),
        bytes: reader.u64(),
        checksum: reader.u32(),
      };
      // Published files are renamed into place only after a sync, so a mismatch is damage.
      if (stored.bytes !== size - trailerBytes - footerBytes) throw corrupt('size mismatch');
      return stored;
    } finally {
      await file.close();
    }
  }

  async #removeAll(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await this.#fileSystem.remove(join(this.#directory, name)).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
    if (names.length > 0) await this.#fileSystem.syncDirectory(this.#directory);
  }
}

const snapshotMagic = 0x5053_4b52; // "RKSP" read as little-endian bytes
const trailerBytes = 8;

function encodeFooter(stored: StoredSnapshot): Uint8Array {
  const writer = new BinaryWriter();
  writeSnapshotMeta(writer, stored.meta);
  writer.u64(stored.bytes).u32(stored.checksum);
  const footer = writer.finish();
  const trailer = new BinaryWriter().u32(footer.byteLength).u32(snapshotMagic).finish();
  const bytes = new Uint8Array(footer.byteLength + trailer.byteLength);
  bytes.set(footer, 0);
  bytes.set(trailer, footer.byteLength);
  return bytes;
}

function pad(index: number): string {
  return String(index).padStart(20, '0');
}

function snapshotFileName(index: number): string {
  return `snapshot-${pad(index)}.snap`;
}

function publishedIndex(name: string): number | null {
  const match = /^snapshot-(\d{20})\.snap$/.exec(name);
  return match === null ? null : Number(match[1]);
}

function copyStored(stored: StoredSnapshot): StoredSnapshot {
  return { meta: copySnapshotMeta(stored.meta), bytes: stored.bytes, checksum: stored.checksum };
}
