import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RaftError,
  bootstrapSnapshot,
  configurationOf,
  type Entry,
  type HardState,
} from '../../core/index.js';
import { FaultyFileSystem } from './faulty-file-system.test-helpers.js';
import { FileStorage, type FileStorageOptions } from './file-storage.js';
import { nodeFileSystem, type StorageFileSystem } from './file-system.js';
import { lockFileName, lockFileText } from './directory-lock.js';
import { segmentFileName, segmentHeaderBytes } from './record-format.js';

const initialHardState: HardState = { term: 0, vote: null, commit: 0 };
const marker = bootstrapSnapshot(configurationOf(['a', 'b', 'c']));
const directories: string[] = [];
const storages: FileStorage[] = [];

afterEach(async () => {
  for (const storage of storages.splice(0)) await storage.close();
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-file-storage-'));
  directories.push(directory);
  return directory;
}

function command(index: number, term = 1, bytes = 16): Entry {
  return { kind: 'command', index, term, data: new Uint8Array(bytes).fill(index & 0xff) };
}

function commands(from: number, to: number, term = 1, bytes = 16): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= to; index++) entries.push(command(index, term, bytes));
  return entries;
}

function storageAt(options: FileStorageOptions): FileStorage {
  const storage = new FileStorage(options);
  storages.push(storage);
  return storage;
}

async function bootstrapped(
  options: Partial<FileStorageOptions> = {},
): Promise<{ storage: FileStorage; fileSystem: FaultyFileSystem; directory: string }> {
  const directory = options.directory ?? temporaryDirectory();
  const fileSystem = new FaultyFileSystem();
  const storage = storageAt({ ...options, directory, fileSystem });
  expect(await storage.open()).toBeNull();
  await storage.bootstrap(marker, initialHardState);
  return { storage, fileSystem, directory };
}

async function reopened(directory: string, options: Partial<FileStorageOptions> = {}) {
  const storage = storageAt({ ...options, directory });
  return { storage, state: await storage.open() };
}

function segmentFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => name.startsWith('segment-'));
}

function lastSegmentPath(directory: string): string {
  const names = segmentFiles(directory).sort();
  return join(directory, names[names.length - 1]!);
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0x5a;
  writeFileSync(path, bytes);
}

async function rejection(promise: Promise<unknown>): Promise<RaftError> {
  const outcome: unknown = await promise.then(
    () => null,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(RaftError);
  return outcome as RaftError;
}

describe('FileStorage group commit and segments', () => {
  it('syncs once per save, whatever the batch holds', async () => {
    const { storage, fileSystem } = await bootstrapped();
    const before = { ...fileSystem.counts };
    await storage.save({ entries: commands(1, 100), hardState: { term: 1, vote: 'a', commit: 0 } });
    await storage.save({ entries: commands(101, 101) });
    await storage.save({ hardState: { term: 1, vote: 'a', commit: 101 } });
    // The first save also created the first segment, which needs its directory entry synced.
    expect(fileSystem.counts.datasync - before.datasync).toBe(3);
    expect(fileSystem.counts.write - before.write).toBe(3);
    expect(fileSystem.counts.syncDirectory - before.syncDirectory).toBe(1);
  });

  it('makes a save one synced write where the platform offers O_DSYNC, with no datasync after', async () => {
    // Each call to the disk thread waits for the event loop to start the next; a write opened
    // with O_DSYNC is durable when it returns, so an fdatasync after it would only add a trip.
    const calls: string[] = [];
    const recording: StorageFileSystem = {
      ...nodeFileSystem,
      async open(path, mode, options) {
        const file = await nodeFileSystem.open(path, mode, options);
        if (!path.includes('segment-')) return file;
        calls.push(`open ${mode}${options?.syncWrites === true ? ' syncWrites' : ''}`);
        return {
          ...{ syncsWrites: file.syncsWrites === true, read: file.read.bind(file) },
          ...{ size: file.size.bind(file), close: file.close.bind(file) },
          ...{ truncate: file.truncate.bind(file) },
          write: (bytes, position) => (calls.push('write'), file.write(bytes, position)),
          datasync: () => (calls.push('datasync'), file.datasync()),
        };
      },
    };
    const directory = temporaryDirectory();
    const storage = storageAt({ directory, fileSystem: recording });
    await storage.open();
    await storage.bootstrap(marker, initialHardState);
    await storage.save({ entries: commands(1, 10) });
    calls.length = 0;
    await storage.save({
      entries: commands(11, 20),
      hardState: { term: 1, vote: 'a', commit: 10 },
    });
    await storage.save({ entries: commands(21, 21) });
    expect(calls).toEqual(['write', 'write']);
    await storage.close();
    const { storage: again, state } = await reopened(directory, { fileSystem: recording });
    expect(state?.lastIndex).toBe(21);
    expect(state?.hardState.commit).toBe(10);
    // Reopened, the newest segment takes appends again, with synced writes.
    expect(calls.at(-1)).toBe('open write syncWrites');
    calls.length = 0;
    await again.save({ entries: commands(22, 22) });
    expect(calls).toEqual(['write']);
  });

  it('starts a new segment at the configured size and reads across all of them', async () => {
    const { storage, directory } = await bootstrapped({
      segmentBytesMax: 4096,
      cacheEntriesMax: 8,
    });
    for (let first = 1; first <= 300; first += 30) {
      await storage.save({ entries: commands(first, first + 29, 1, 100) });
    }
    const files = segmentFiles(directory);
    expect(files.length).toBeGreaterThan(5);
    for (const name of files.slice(0, -1)) {
      expect(statSync(join(directory, name)).size).toBeLessThanOrEqual(4096);
    }
    expect(await storage.entries(1, 301)).toEqual(commands(1, 300, 1, 100));
    await storage.close();
    const { storage: again, state } = await reopened(directory, { cacheEntriesMax: 8 });
    expect(state?.lastIndex).toBe(300);
    expect(await again.entries(137, 143)).toEqual(commands(137, 142, 1, 100));
  });

  it('reads back a default-sized segment of 200,000 entries after a restart', async () => {
    // One segment holds all of them: spreading a whole segment's entries into one push call would
    // overflow the stack near 125,000 entries and keep a long-running server from starting.
    const { storage, directory } = await bootstrapped();
    const count = 200_000;
    for (let first = 1; first <= count; first += 50_000) {
      await storage.save({ entries: commands(first, first + 49_999, 1, 1) });
    }
    await storage.close();
    const { storage: again, state } = await reopened(directory);
    expect(state?.lastIndex).toBe(count);
    const entries = await again.entries(1, count + 1);
    expect(entries.length).toBe(count);
    expect(entries[count - 1]).toEqual(command(count, 1, 1));
  });

  it('keeps an entry larger than a segment in a segment of its own', async () => {
    const { storage, directory } = await bootstrapped({ segmentBytesMax: 1024 });
    await storage.save({ entries: [command(1, 1, 10), command(2, 1, 5000), command(3, 1, 10)] });
    expect(segmentFiles(directory)).toHaveLength(3);
    await storage.close();
    const { storage: again } = await reopened(directory);
    expect(await again.entries(1, 4)).toEqual([
      command(1, 1, 10),
      command(2, 1, 5000),
      command(3, 1, 10),
    ]);
  });

  it('deletes segments once compaction has passed them', async () => {
    const { storage, directory } = await bootstrapped({ segmentBytesMax: 2048 });
    await storage.save({ entries: commands(1, 200, 1, 64) });
    const before = segmentFiles(directory);
    await storage.compact({ ...marker, index: 150, term: 1 });
    const after = segmentFiles(directory);
    expect(after.length).toBeLessThan(before.length);
    expect(after).toEqual(before.slice(before.length - after.length));
    await storage.compact({ ...marker, index: 400, term: 2 });
    expect(segmentFiles(directory)).toEqual([]);
    await storage.save({ entries: [command(401, 2)] });
    await storage.close();
    const { storage: again, state } = await reopened(directory);
    expect(state).toMatchObject({ lastIndex: 401, snapshot: { index: 400 } });
    expect(await again.entries(401, 402)).toEqual([command(401, 2)]);
  });

  it('finishes a compaction that crashed before deleting old segments', async () => {
    const { storage, directory, fileSystem } = await bootstrapped({ segmentBytesMax: 2048 });
    await storage.save({ entries: commands(1, 200, 1, 64) });
    const before = segmentFiles(directory).length;
    fileSystem.fail('remove', 'EIO');
    expect((await rejection(storage.compact({ ...marker, index: 150, term: 1 }))).code).toBe(
      'STORAGE_FAILED',
    );
    expect(segmentFiles(directory)).toHaveLength(before);
    await storage.close();
    const { storage: again, state } = await reopened(directory);
    expect(state).toMatchObject({ lastIndex: 200, snapshot: { index: 150 } });
    expect(segmentFiles(directory).length).toBeLessThan(before);
    expect(await again.entries(151, 201)).toEqual(commands(151, 200, 1, 64));
  });
});

describe('FileStorage recovery', () => {
  async function threeBatches(): Promise<string> {
    const { storage, directory } = await bootstrapped();
    await storage.save({ entries: commands(1, 10) });
    await storage.save({
      entries: commands(11, 20),
      hardState: { term: 1, vote: 'a', commit: 10 },
    });
    await storage.save({ entries: commands(21, 21) });
    await storage.close();
    return directory;
  }

  it('cuts a torn tail: a last record written only in part was never acknowledged', async () => {
    const directory = await threeBatches();
    const path = lastSegmentPath(directory);
    const size = statSync(path).size;
    writeFileSync(path, readFileSync(path).subarray(0, size - 5));
    const { storage, state } = await reopened(directory);
    expect(state).toMatchObject({ lastIndex: 20, hardState: { term: 1, vote: 'a', commit: 10 } });
    expect(statSync(path).size).toBeLessThan(size - 5);
    await storage.save({ entries: [command(21, 2)] });
    expect(await storage.entries(19, 22)).toEqual([command(19), command(20), command(21, 2)]);
  });

  it('removes a last segment whose header was never written whole', async () => {
    const { storage, directory } = await bootstrapped({ segmentBytesMax: 1024 });
    await storage.save({ entries: commands(1, 30, 1, 64) });
    await storage.close();
    const files = segmentFiles(directory).sort();
    const last = join(directory, files[files.length - 1]!);
    const endOfPrevious = (await reopened(directory)).state?.lastIndex ?? 0;
    await storages.pop()?.close();
    writeFileSync(last, readFileSync(last).subarray(0, segmentHeaderBytes - 3));
    const { storage: again, state } = await reopened(directory);
    expect(segmentFiles(directory)).toHaveLength(files.length - 1);
    expect(state?.lastIndex).toBeLessThan(endOfPrevious);
    const next = (state?.lastIndex ?? 0) + 1;
    await again.save({ entries: [command(next, 2)] });
    expect(await again.entries(next, next + 1)).toEqual([command(next, 2)]);
  });

  it('cuts garbage and zeros appended after the last record', async () => {
    const directory = await threeBatches();
    const path = lastSegmentPath(directory);
    writeFileSync(
      path,
      Buffer.concat([readFileSync(path), Buffer.alloc(4096), Buffer.from('junk')]),
    );
    const { state } = await reopened(directory);
    expect(state?.lastIndex).toBe(21);
  });

  it('treats a flipped byte in the last record like a torn write and cuts that record', async () => {
    const directory = await threeBatches();
    const path = lastSegmentPath(directory);
    flipByte(path, statSync(path).size - 3);
    const { storage, state } = await reopened(directory);
    expect(state?.lastIndex).toBe(20);
    expect(await storage.entries(1, 21)).toEqual(commands(1, 20));
  });

  it('refuses to open when a damaged record is followed by valid ones, naming file and offset', async () => {
    const directory = await threeBatches();
    const path = lastSegmentPath(directory);
    const before = readFileSync(path);
    const offset = segmentHeaderBytes + Math.floor((before.length - segmentHeaderBytes) / 2);
    flipByte(path, offset);
    const error = await rejection(new FileStorage({ directory }).open());
    expect(error).toMatchObject({ code: 'CORRUPT_STORAGE', details: { file: path } });
    const damagedAt = (error as RaftError<'CORRUPT_STORAGE'>).details.offset;
    expect(damagedAt).toBeGreaterThanOrEqual(segmentHeaderBytes);
    expect(damagedAt).toBeLessThanOrEqual(offset);
    expect(error.message).toContain(path);
    // Nothing was "repaired": the evidence stays on disk, and the lock was released.
    expect(readFileSync(path).length).toBe(before.length);
    expect(readdirSync(directory)).not.toContain(lockFileName);
  });

  it('checks every record behind the compaction marker too, though it never decodes them', async () => {
    const { storage, directory } = await bootstrapped();
    await storage.save({ entries: commands(1, 100) });
    await storage.compact({ ...marker, index: 60, term: 1 });
    await storage.close();
    const { storage: again, state } = await reopened(directory);
    expect(state).toMatchObject({ lastIndex: 100, snapshot: { index: 60 } });
    expect(await again.entries(61, 101)).toEqual(commands(61, 100));
    await again.close();
    // A byte of the twentieth entry, far behind the marker and far before the end.
    const path = lastSegmentPath(directory);
    const offset = segmentHeaderBytes + Math.floor((statSync(path).size - segmentHeaderBytes) / 5);
    flipByte(path, offset);
    const error = await rejection(new FileStorage({ directory }).open());
    expect(error).toMatchObject({ code: 'CORRUPT_STORAGE', details: { file: path } });
  });

  it('refuses damage at the end of a segment that is not the last one', async () => {
    const { storage, directory } = await bootstrapped({ segmentBytesMax: 1024 });
    await storage.save({ entries: commands(1, 40, 1, 64) });
    await storage.close();
    const first = join(directory, segmentFileName(1));
    flipByte(first, statSync(first).size - 2);
    const error = await rejection(new FileStorage({ directory }).open());
    expect(error).toMatchObject({ code: 'CORRUPT_STORAGE', details: { file: first } });
  });

  it('refuses a missing segment in the middle of the log', async () => {
    const { storage, directory } = await bootstrapped({ segmentBytesMax: 1024 });
    await storage.save({ entries: commands(1, 60, 1, 64) });
    await storage.close();
    rmSync(join(directory, segmentFileName(2)));
    expect((await rejection(new FileStorage({ directory }).open())).code).toBe('CORRUPT_STORAGE');
  });

  it('refuses segments without a state file', async () => {
    const directory = await threeBatches();
    rmSync(join(directory, 'state'));
    expect((await rejection(new FileStorage({ directory }).open())).code).toBe('CORRUPT_STORAGE');
  });

  it('refuses a damaged state file', async () => {
    const directory = await threeBatches();
    flipByte(join(directory, 'state'), 12);
    expect((await rejection(new FileStorage({ directory }).open())).code).toBe('CORRUPT_STORAGE');
  });

  it('reports damage found while reading an entry that is no longer cached', async () => {
    const { storage, directory } = await bootstrapped({ cacheEntriesMax: 4 });
    await storage.save({ entries: commands(1, 50) });
    flipByte(lastSegmentPath(directory), segmentHeaderBytes + 20);
    const error = await rejection(storage.entries(1, 3));
    expect(error).toMatchObject({
      code: 'CORRUPT_STORAGE',
      details: { offset: segmentHeaderBytes },
    });
    expect(await storage.entries(48, 51)).toEqual(commands(48, 50));
  });
});

describe('FileStorage write failures', () => {
  it('fails a save on ENOSPC, refuses everything after, and loses nothing acknowledged', async () => {
    const { storage, fileSystem, directory } = await bootstrapped();
    await storage.save({ entries: commands(1, 10) });
    fileSystem.fail('write', 'ENOSPC');
    const error = await rejection(storage.save({ entries: commands(11, 20) }));
    expect(error.code).toBe('STORAGE_FAILED');
    expect(error.message).toContain('ENOSPC');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect((await rejection(storage.save({ entries: [command(11)] }))).code).toBe('STORAGE_FAILED');
    expect((await rejection(storage.entries(1, 2))).code).toBe('STORAGE_FAILED');
    await storage.close();
    // Whole records that reached the disk before it filled up may survive (the contract allows
    // any prefix of an unacknowledged batch); the half-written one after them may not.
    const { storage: again, state } = await reopened(directory);
    const lastIndex = state?.lastIndex ?? 0;
    expect(lastIndex).toBeGreaterThanOrEqual(10);
    expect(lastIndex).toBeLessThan(20);
    expect(await again.entries(1, lastIndex + 1)).toEqual(commands(1, lastIndex));
  });

  it('fails a save whose fsync fails and refuses further writes', async () => {
    const { storage, fileSystem } = await bootstrapped();
    await storage.save({ entries: commands(1, 2) });
    fileSystem.fail('datasync', 'EIO');
    expect((await rejection(storage.save({ entries: [command(3)] }))).code).toBe('STORAGE_FAILED');
    expect((await rejection(storage.compact({ ...marker, index: 1, term: 1 }))).code).toBe(
      'STORAGE_FAILED',
    );
  });

  it('fails a hard-state update when the state file cannot be renamed into place', async () => {
    const { storage, fileSystem, directory } = await bootstrapped();
    await storage.save({ entries: commands(1, 5), hardState: { term: 2, vote: 'b', commit: 3 } });
    fileSystem.fail('rename', 'EIO');
    expect((await rejection(storage.compact({ ...marker, index: 3, term: 1 }))).code).toBe(
      'STORAGE_FAILED',
    );
    await storage.close();
    const { state } = await reopened(directory);
    expect(state).toMatchObject({ lastIndex: 5, snapshot: { index: 0 }, hardState: { term: 2 } });
  });

  it('explains a directory it cannot create', async () => {
    const parent = temporaryDirectory();
    writeFileSync(join(parent, 'file'), 'not a directory');
    const directory = join(parent, 'file', 'log');
    const error = await rejection(new FileStorage({ directory }).open());
    expect(error.code).toBe('STORAGE_FAILED');
    expect(error.message).toContain(directory);
    expect(error.message).toContain('writable directory');
  });

  it('explains a directory it may not write to', async () => {
    const directory = temporaryDirectory();
    // Tests may run as root, which ignores permission bits, so the refusal is injected where the
    // lock file is created.
    const denied: StorageFileSystem = {
      ...nodeFileSystem,
      open: () => Promise.reject(Object.assign(new Error('permission denied'), { code: 'EACCES' })),
    };
    const error = await rejection(new FileStorage({ directory, fileSystem: denied }).open());
    expect(error.code).toBe('STORAGE_FAILED');
    expect(error.message).toContain('EACCES');
    expect(error.details).toMatchObject({ directory });
  });
});

describe('FileStorage lock', () => {
  it('refuses a second instance on the same directory in one process', async () => {
    const { directory } = await bootstrapped();
    expect((await rejection(new FileStorage({ directory }).open())).code).toBe('LOCKED');
  });

  it('refuses a directory locked by another running process', async () => {
    const directory = temporaryDirectory();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      writeFileSync(join(directory, lockFileName), lockFileText(sleeper.pid ?? 0));
      const error = await rejection(new FileStorage({ directory }).open());
      expect(error).toMatchObject({ code: 'LOCKED', details: { pid: sleeper.pid } });
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that is gone', async () => {
    const directory = temporaryDirectory();
    const finished = spawnSync(process.execPath, ['-e', '0']);
    writeFileSync(join(directory, lockFileName), lockFileText(finished.pid));
    const storage = storageAt({ directory });
    expect(await storage.open()).toBeNull();
    expect(readFileSync(join(directory, lockFileName), 'utf8')).toBe(lockFileText(process.pid));
  });

  it('takes over a lock written before a reboot or never written whole', async () => {
    for (const stale of [
      `${process.ppid} 00000000-0000-0000-0000-000000000000\n`,
      `${process.ppid}`,
    ]) {
      const directory = temporaryDirectory();
      writeFileSync(join(directory, lockFileName), stale);
      const storage = storageAt({ directory });
      expect(await storage.open()).toBeNull();
      await storage.close();
    }
  });

  it('can be opened again after close', async () => {
    const { storage, directory } = await bootstrapped();
    await storage.close();
    expect(readdirSync(directory)).not.toContain(lockFileName);
    const { state } = await reopened(directory);
    expect(state?.lastIndex).toBe(0);
  });
});
