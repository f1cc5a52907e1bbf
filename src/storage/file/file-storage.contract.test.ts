import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logStorageContract } from '../../testing/index.js';
import { FaultyFileSystem } from './faulty-file-system.test-helpers.js';
import { FileStorage } from './file-storage.js';

const fileSystems = new WeakMap<FileStorage, FaultyFileSystem>();

function storageIn(directory: string): FileStorage {
  const fileSystem = new FaultyFileSystem();
  // Small segments and cache, so the suite crosses segment boundaries and reads from disk.
  const storage = new FileStorage({
    directory,
    fileSystem,
    segmentBytesMax: 64 * 1024,
    cacheEntriesMax: 64,
  });
  fileSystems.set(storage, fileSystem);
  return storage;
}

logStorageContract({
  name: 'FileStorage',
  create: () => storageIn(mkdtempSync(join(tmpdir(), 'raftkit-file-contract-'))),
  reopen: (storage) => storageIn(storage.directory),
  destroy: async (storage) => {
    await storage.close();
    rmSync(storage.directory, { recursive: true, force: true });
  },
  crash: async (storage) => {
    fileSystems.get(storage)?.kill();
    await storage.close();
    return storageIn(storage.directory);
  },
});
