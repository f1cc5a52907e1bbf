import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { logStorageContract } from '../../testing/contracts.js';
import { machineStopClock } from '../clean-stop-record.js';
import { SqliteStorage } from './sqlite-storage.js';

const paths = new WeakMap<SqliteStorage, string>();

function storageAt(path: string): SqliteStorage {
  const storage = new SqliteStorage({ path });
  paths.set(storage, path);
  return storage;
}

logStorageContract({
  name: 'SqliteStorage',
  create: () => storageAt(join(mkdtempSync(join(tmpdir(), 'raftkit-sqlite-contract-')), 'raft.db')),
  reopen: (storage) => storageAt(paths.get(storage)!),
  destroy: async (storage) => {
    await storage.close();
    rmSync(dirname(paths.get(storage)!), { recursive: true, force: true });
  },
  // A save commits its transaction before its promise is returned, so what a crash can lose is
  // what SQLite's own WAL recovery discards; the real crash test kills processes for that.
  crash: async (storage) => {
    await storage.close();
    return storageAt(paths.get(storage)!);
  },
  // Stops are recorded against the boot id, which only some systems name.
  recordsCleanStops: machineStopClock.bootId !== '',
});
