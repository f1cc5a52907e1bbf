import { basename } from 'node:path';
import {
  nodeFileSystem,
  type FileOpenMode,
  type FileOpenOptions,
  type StorageFile,
  type StorageFileSystem,
} from './file-system.js';
import { lockFileName } from './directory-lock.js';

/** The kinds of operation a test can make fail. */
export type FaultKind = 'write' | 'datasync' | 'rename' | 'syncDirectory' | 'remove';

function systemError(code: string, operation: string): Error {
  return Object.assign(new Error(`${code}: simulated failure of ${operation}`), { code });
}

/**
 * A file system that passes through to the real one and fails chosen operations on demand, for
 * testing how FileStorage reacts to a full disk, a failed fsync, or the death of its process.
 */
export class FaultyFileSystem implements StorageFileSystem {
  readonly #base: StorageFileSystem;
  readonly #faults = new Map<FaultKind, { code: string; after: number }>();
  #killed = false;
  /** Completed calls per operation kind, to check e.g. one sync per save. */
  readonly counts: Record<FaultKind | 'truncate', number> = {
    write: 0,
    datasync: 0,
    rename: 0,
    syncDirectory: 0,
    remove: 0,
    truncate: 0,
  };

  constructor(base: StorageFileSystem = nodeFileSystem) {
    this.#base = base;
  }

  /** Makes the operation fail with `code` after `after` more successful ones of its kind. */
  fail(kind: FaultKind, code: string, after = 0): void {
    this.#faults.set(kind, { code, after });
  }

  /**
   * Simulates the death of the process: every later change to the disk fails, so nothing more is
   * written, while closing files and removing the lock still work so the test can open the
   * directory again in this process (a real crash releases both with the process).
   */
  kill(): void {
    this.#killed = true;
  }

  /** Throws if the operation is due to fail. */
  check(kind: FaultKind | 'truncate' | 'change'): void {
    if (this.#killed) throw systemError('EIO', `${kind} after the process was killed`);
    if (kind === 'truncate' || kind === 'change') return;
    const fault = this.#faults.get(kind);
    if (fault === undefined) return;
    if (fault.after > 0) {
      fault.after--;
      return;
    }
    this.#faults.delete(kind);
    throw systemError(fault.code, kind);
  }

  async open(path: string, mode: FileOpenMode, options?: FileOpenOptions): Promise<StorageFile> {
    if (mode !== 'read' && basename(path) !== lockFileName) this.check('change');
    return new FaultyFile(this, await this.#base.open(path, mode, options));
  }

  makeDirectory(path: string): Promise<void> {
    return this.#base.makeDirectory(path);
  }

  list(path: string): Promise<string[]> {
    return this.#base.list(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename');
    await this.#base.rename(from, to);
    this.counts.rename++;
  }

  async remove(path: string): Promise<void> {
    if (basename(path) !== lockFileName) {
      this.check('change');
      this.check('remove');
    }
    await this.#base.remove(path);
    this.counts.remove++;
  }

  async syncDirectory(path: string): Promise<void> {
    this.check('syncDirectory');
    await this.#base.syncDirectory(path);
    this.counts.syncDirectory++;
  }
}

/**
 * A file whose operations can be made to fail. On a file that syncs its writes, a write is also a
 * sync: it counts as one, and a `datasync` fault fails it once its bytes were handed over, the way
 * an fsync error surfaces from an `O_DSYNC` write.
 */
class FaultyFile implements StorageFile {
  readonly #system: FaultyFileSystem;
  readonly #file: StorageFile;
  readonly syncsWrites: boolean;

  constructor(system: FaultyFileSystem, file: StorageFile) {
    this.#system = system;
    this.#file = file;
    this.syncsWrites = file.syncsWrites === true;
  }

  read(buffer: Uint8Array, position: number): Promise<number> {
    return this.#file.read(buffer, position);
  }

  async write(bytes: Uint8Array, position: number): Promise<void> {
    this.#system.check('change');
    try {
      this.#system.check('write');
    } catch (error) {
      // A full disk usually takes part of the write before refusing the rest.
      await this.#file.write(bytes.subarray(0, Math.floor(bytes.length / 2)), position);
      throw error;
    }
    await this.#file.write(bytes, position);
    this.#system.counts.write++;
    if (!this.syncsWrites) return;
    this.#system.check('datasync');
    this.#system.counts.datasync++;
  }

  async truncate(length: number): Promise<void> {
    this.#system.check('truncate');
    await this.#file.truncate(length);
    this.#system.counts.truncate++;
  }

  async datasync(): Promise<void> {
    this.#system.check('datasync');
    await this.#file.datasync();
    this.#system.counts.datasync++;
  }

  size(): Promise<number> {
    return this.#file.size();
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}
