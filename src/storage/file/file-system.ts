import { constants } from 'node:fs';
import { open, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/**
 * How a file is opened: `read` for reading only, `write` for reading and writing an existing
 * file, `create` to create a new file that must not exist yet, `replace` to create or empty one.
 */
export type FileOpenMode = 'read' | 'write' | 'create' | 'replace';

/** How a file is opened, besides its mode. */
export interface FileOpenOptions {
  /**
   * Ask that every write be durable once it resolves, as if a `datasync` followed it in the same
   * call (`O_DSYNC`): an append then costs one trip to the disk thread instead of two. The file
   * says in {@link StorageFile.syncsWrites} whether it was granted; a file system may refuse.
   */
  readonly syncWrites?: boolean;
}

/** One open file. Positions are byte offsets from the start of the file. */
export interface StorageFile {
  /**
   * True when each `write` is durable once it resolves (the file was opened with `syncWrites` and
   * the file system granted it): a caller may then skip `datasync` after writing. Truncation is
   * not covered and still needs `datasync`.
   */
  readonly syncsWrites?: boolean;
  /** Reads up to `length` bytes at `position` into `buffer`; returns how many were read. */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Writes all of `bytes` at `position`, or throws. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** Flushes the file's data and the metadata needed to read it (fdatasync). */
  datasync(): Promise<void>;
  /** The file's current size in bytes. */
  size(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The few file-system operations FileStorage uses. Injectable so tests can fail a write with
 * `ENOSPC` or a sync with `EIO` at an exact moment, and so a simulator can model a disk.
 */
export interface StorageFileSystem {
  open(path: string, mode: FileOpenMode, options?: FileOpenOptions): Promise<StorageFile>;
  /** Creates a directory and its missing parents; succeeds if it exists. */
  makeDirectory(path: string): Promise<void>;
  /** Names in a directory. */
  list(path: string): Promise<string[]>;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  remove(path: string): Promise<void>;
  /** Makes creations, renames and removals in a directory durable (fsync on the directory). */
  syncDirectory(path: string): Promise<void>;
}

const openFlags: Readonly<Record<FileOpenMode, string>> = {
  read: 'r',
  write: 'r+',
  create: 'wx+',
  replace: 'w+',
};

/** The same modes as numbers, for when `O_DSYNC` joins them. */
const openFlagNumbers: Readonly<Record<FileOpenMode, number>> = {
  read: constants.O_RDONLY,
  write: constants.O_RDWR,
  create: constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
  replace: constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC,
};

/** Undefined where the platform has no such flag (Windows): writes are then synced apart. */
const dataSyncFlag: number | undefined = constants.O_DSYNC;

class NodeStorageFile implements StorageFile {
  readonly #handle: FileHandle;
  readonly syncsWrites: boolean;

  constructor(handle: FileHandle, syncsWrites: boolean) {
    this.#handle = handle;
    this.syncsWrites = syncsWrites;
  }

  async read(buffer: Uint8Array, position: number): Promise<number> {
    let total = 0;
    // A regular file returns short reads only at its end, but looping costs nothing and keeps the
    // contract independent of that.
    while (total < buffer.length) {
      const { bytesRead } = await this.#handle.read(
        buffer,
        total,
        buffer.length - total,
        position + total,
      );
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total;
  }

  async write(bytes: Uint8Array, position: number): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      const result = await this.#handle.write(
        bytes,
        written,
        bytes.length - written,
        position + written,
      );
      written += result.bytesWritten;
    }
  }

  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }

  datasync(): Promise<void> {
    return this.#handle.datasync();
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** The real file system, through `node:fs/promises`. */
export const nodeFileSystem: StorageFileSystem = Object.freeze({
  async open(path: string, mode: FileOpenMode, options?: FileOpenOptions): Promise<StorageFile> {
    if (options?.syncWrites === true && mode !== 'read' && dataSyncFlag !== undefined) {
      const flags = openFlagNumbers[mode] | dataSyncFlag;
      return new NodeStorageFile(await open(path, flags, 0o644), true);
    }
    return new NodeStorageFile(await open(path, openFlags[mode], 0o644), false);
  },
  async makeDirectory(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  },
  list(path: string): Promise<string[]> {
    return readdir(path);
  },
  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  },
  remove(path: string): Promise<void> {
    return unlink(path);
  },
  async syncDirectory(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
});
