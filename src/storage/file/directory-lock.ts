import { join, resolve } from 'node:path';
import { RaftError } from '../../core/index.js';
import { bootId } from '../boot-id.js';
import type { StorageFileSystem } from './file-system.js';

/** The lock file's name inside a storage directory. */
export const lockFileName = 'LOCK';
/** A lock file holds a process id, a boot id and a newline; anything longer is not ours. */
const lockFileBytesMax = 128;

/** Directories locked by this process. A second open in the same process must fail too. */
const lockedDirectories = new Set<string>();

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** What a lock file held by process `pid` during this boot contains. */
export function lockFileText(pid: number): string {
  return `${pid} ${bootId}\n`;
}

/**
 * The pid in a lock file written during this boot, or `null` when the file is incomplete (its
 * write never reached the disk whole), from an earlier boot, or not a lock file at all.
 */
async function readLockOwner(fileSystem: StorageFileSystem, path: string): Promise<number | null> {
  const file = await fileSystem.open(path, 'read');
  let text: string;
  try {
    const buffer = new Uint8Array(lockFileBytesMax);
    const length = await file.read(buffer, 0);
    text = new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    await file.close();
  }
  const match = /^(\d+) ([0-9a-f-]*)\n$/.exec(text);
  if (match === null || match[2] !== bootId) return null;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Creates the lock file holding our pid; false if it already exists. */
async function tryCreateLockFile(fileSystem: StorageFileSystem, path: string): Promise<boolean> {
  let file;
  try {
    file = await fileSystem.open(path, 'create');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.write(new TextEncoder().encode(lockFileText(process.pid)), 0);
  } finally {
    await file.close();
  }
  return true;
}

/**
 * An exclusive claim on a storage directory: a `LOCK` file naming the owning process, plus an
 * in-process registry because the file alone cannot tell two instances in one process apart.
 * A lock left by a process that no longer runs (it crashed) is taken over.
 */
export class DirectoryLock {
  readonly #fileSystem: StorageFileSystem;
  readonly #directory: string;
  #held = false;

  constructor(fileSystem: StorageFileSystem, directory: string) {
    this.#fileSystem = fileSystem;
    this.#directory = resolve(directory);
  }

  /** Takes the lock or rejects with `LOCKED`. */
  async acquire(): Promise<void> {
    if (this.#held) return;
    if (lockedDirectories.has(this.#directory)) {
      throw new RaftError('LOCKED', `${this.#directory} is already open in this process`, {
        details: { directory: this.#directory },
      });
    }
    lockedDirectories.add(this.#directory);
    try {
      await this.#claimFile();
      this.#held = true;
    } finally {
      if (!this.#held) lockedDirectories.delete(this.#directory);
    }
  }

  /** Gives the lock up; safe to call when it is not held. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    try {
      await this.#fileSystem.remove(join(this.#directory, lockFileName));
    } finally {
      lockedDirectories.delete(this.#directory);
    }
  }

  async #claimFile(): Promise<void> {
    const path = join(this.#directory, lockFileName);
    if (await tryCreateLockFile(this.#fileSystem, path)) return;
    const owner = await readLockOwner(this.#fileSystem, path);
    if (owner !== null && owner !== process.pid && isProcessAlive(owner)) {
      throw new RaftError('LOCKED', `${this.#directory} is locked by process ${owner}`, {
        details: { directory: this.#directory, pid: owner },
      });
    }
    // The owner is gone (or is this process, whose registry says it holds nothing here): the lock
    // is stale. Two processes taking over the same stale lock at the same instant could both
    // succeed; a crashed owner restarted twice at once is the only way to get there.
    await this.#fileSystem.remove(path);
    if (await tryCreateLockFile(this.#fileSystem, path)) return;
    throw new RaftError('LOCKED', `${this.#directory} was locked by another process meanwhile`, {
      details: { directory: this.#directory },
    });
  }
}
