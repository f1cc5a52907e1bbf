import { basename, dirname, resolve } from 'node:path';
import type {
  FileOpenMode,
  FileOpenOptions,
  StorageFile,
  StorageFileSystem,
} from './file-system.js';

/**
 * An in-memory file system that remembers what is durable: file contents become durable on
 * `datasync`, directory changes (creations, renames, removals) on `syncDirectory`. `crash()`
 * returns the file system a machine would find after losing power, so tests can check that
 * FileStorage syncs the right things in the right order. A file opened with `syncWrites` syncs
 * each write as part of it (two changes: the write, then its sync, so power can fail between).
 *
 * What survives of unsynced data is drawn from a seeded generator: a file that grew keeps a
 * random prefix of its unsynced tail, sometimes with the end of it zeroed (the size reached the
 * disk, the data did not); a file that was cut or rewritten keeps either the old or the new
 * contents. Unsynced appends reach the disk in order, as a journaling file system's ordered mode
 * tends to make them.
 */

interface Inode {
  durable: Uint8Array;
  current: Uint8Array;
}

interface Directory {
  current: Map<string, Inode>;
  durable: Map<string, Inode>;
}

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let position = 0; position < prefix.length; position++) {
    if (bytes[position] !== prefix[position]) return false;
  }
  return true;
}

/** See the module comment. */
export class PowerLossFileSystem implements StorageFileSystem {
  readonly #directories: Map<string, Directory>;
  readonly #random: () => number;
  /** Changes left before the machine loses power; `null` for no limit. */
  #changesLeft: number | null = null;
  #dead = false;

  constructor(random: () => number, directories = new Map<string, Directory>()) {
    this.#random = random;
    this.#directories = directories;
  }

  /** Loses power after `changes` more writes, truncations, syncs, renames or removals. */
  losePowerAfter(changes: number): void {
    this.#changesLeft = changes;
  }

  /** Whether the power is gone (every change since then failed). */
  get isDead(): boolean {
    return this.#dead;
  }

  /** The file system found after the power came back. This one refuses everything from now on. */
  crash(): PowerLossFileSystem {
    this.#dead = true;
    const survivors = new Map<string, Directory>();
    const restored = new Map<Inode, Inode>();
    for (const [path, directory] of this.#directories) {
      const names = new Map<string, Inode>();
      for (const [name, inode] of directory.durable) {
        let copy = restored.get(inode);
        if (copy === undefined) {
          const data = this.#survivingData(inode);
          copy = { durable: data, current: data.slice() };
          restored.set(inode, copy);
        }
        names.set(name, copy);
      }
      survivors.set(path, { current: new Map(names), durable: names });
    }
    return new PowerLossFileSystem(this.#random, survivors);
  }

  /** Counts one change, failing it if the power is gone. */
  change(what: string): void {
    if (this.#dead) throw systemError('EIO', `${what} after power loss`);
    if (this.#changesLeft === null) return;
    if (this.#changesLeft === 0) {
      this.#dead = true;
      throw systemError('EIO', `${what} at power loss`);
    }
    this.#changesLeft--;
  }

  async open(path: string, mode: FileOpenMode, options?: FileOpenOptions): Promise<StorageFile> {
    await Promise.resolve();
    const { directory, name } = this.#locate(path);
    let inode = directory.current.get(name);
    const syncsWrites = options?.syncWrites === true && mode !== 'read';
    if (mode === 'read' || mode === 'write') {
      if (this.#dead) throw systemError('EIO', 'open after power loss');
      if (inode === undefined) throw systemError('ENOENT', path);
      return new PowerLossFile(this, inode, syncsWrites);
    }
    this.change(`create ${path}`);
    if (inode !== undefined && mode === 'create') throw systemError('EEXIST', path);
    if (inode === undefined) {
      inode = { durable: new Uint8Array(0), current: new Uint8Array(0) };
      directory.current.set(name, inode);
    } else {
      inode.current = new Uint8Array(0);
    }
    return new PowerLossFile(this, inode, syncsWrites);
  }

  async makeDirectory(path: string): Promise<void> {
    await Promise.resolve();
    const key = resolve(path);
    if (!this.#directories.has(key)) {
      // The directory itself is assumed durable: tests create it before any storage opens it.
      this.#directories.set(key, { current: new Map(), durable: new Map() });
    }
  }

  async list(path: string): Promise<string[]> {
    await Promise.resolve();
    const directory = this.#directories.get(resolve(path));
    if (directory === undefined) throw systemError('ENOENT', path);
    return [...directory.current.keys()];
  }

  async rename(from: string, to: string): Promise<void> {
    await Promise.resolve();
    this.change(`rename ${from}`);
    const source = this.#locate(from);
    const target = this.#locate(to);
    const inode = source.directory.current.get(source.name);
    if (inode === undefined) throw systemError('ENOENT', from);
    source.directory.current.delete(source.name);
    target.directory.current.set(target.name, inode);
  }

  async remove(path: string): Promise<void> {
    await Promise.resolve();
    this.change(`remove ${path}`);
    const { directory, name } = this.#locate(path);
    if (!directory.current.delete(name)) throw systemError('ENOENT', path);
  }

  async syncDirectory(path: string): Promise<void> {
    await Promise.resolve();
    this.change(`sync ${path}`);
    const directory = this.#directories.get(resolve(path));
    if (directory === undefined) throw systemError('ENOENT', path);
    directory.durable = new Map(directory.current);
  }

  #locate(path: string): { directory: Directory; name: string } {
    const directory = this.#directories.get(resolve(dirname(path)));
    if (directory === undefined) throw systemError('ENOENT', dirname(path));
    return { directory, name: basename(path) };
  }

  #survivingData(inode: Inode): Uint8Array {
    const { durable, current } = inode;
    if (current.length > durable.length && startsWith(current, durable)) {
      const keptBytes = Math.floor(this.#random() * (current.length - durable.length + 1));
      const kept = current.slice(0, durable.length + keptBytes);
      if (keptBytes > 0 && this.#random() < 0.3) {
        kept.fill(0, durable.length + Math.floor(this.#random() * keptBytes));
      }
      return kept;
    }
    return (this.#random() < 0.5 ? durable : current).slice();
  }
}

class PowerLossFile implements StorageFile {
  readonly #system: PowerLossFileSystem;
  readonly #inode: Inode;
  readonly syncsWrites: boolean;

  constructor(system: PowerLossFileSystem, inode: Inode, syncsWrites: boolean) {
    this.#system = system;
    this.#inode = inode;
    this.syncsWrites = syncsWrites;
  }

  async read(buffer: Uint8Array, position: number): Promise<number> {
    await Promise.resolve();
    const available = this.#inode.current.subarray(position, position + buffer.length);
    buffer.set(available);
    return available.length;
  }

  async write(bytes: Uint8Array, position: number): Promise<void> {
    await Promise.resolve();
    this.#system.change('write');
    const current = this.#inode.current;
    const length = Math.max(current.length, position + bytes.length);
    const next = new Uint8Array(length);
    next.set(current);
    next.set(bytes, position);
    this.#inode.current = next;
    if (this.syncsWrites) this.#sync();
  }

  async truncate(length: number): Promise<void> {
    await Promise.resolve();
    this.#system.change('truncate');
    const next = new Uint8Array(length);
    next.set(this.#inode.current.subarray(0, length));
    this.#inode.current = next;
  }

  async datasync(): Promise<void> {
    await Promise.resolve();
    this.#sync();
  }

  #sync(): void {
    this.#system.change('datasync');
    this.#inode.durable = this.#inode.current.slice();
  }

  async size(): Promise<number> {
    await Promise.resolve();
    return this.#inode.current.length;
  }

  async close(): Promise<void> {
    await Promise.resolve();
  }
}
