import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logStorageContract } from '../../testing/contracts.js';
import { machineStopClock } from '../clean-stop-record.js';
import { FaultyFileSystem } from './faulty-file-system.test-helpers.js';
import { FileStorage } from './file-storage.js';
import { seededRandom } from '../../core/index.js';
import { PowerLossFileSystem } from './power-loss-file-system.test-helpers.js';

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
  // Stops are recorded against the boot id, which only some systems name.
  recordsCleanStops: machineStopClock.bootId !== '',
});

const powerLossFileSystems = new WeakMap<FileStorage, PowerLossFileSystem>();
let powerLossDirectoryCount = 0;

function storageOnPowerLossDisk(directory: string, fileSystem: PowerLossFileSystem): FileStorage {
  const storage = new FileStorage({
    directory,
    fileSystem,
    segmentBytesMax: 64 * 1024,
    cacheEntriesMax: 64,
  });
  powerLossFileSystems.set(storage, fileSystem);
  return storage;
}

// The same suite with crashes that lose everything not yet synced, as a power loss would.
logStorageContract({
  name: 'FileStorage after power loss',
  create: () =>
    storageOnPowerLossDisk(
      `/power-loss-contract/${++powerLossDirectoryCount}`,
      new PowerLossFileSystem(seededRandom(powerLossDirectoryCount)),
    ),
  reopen: (storage) =>
    storageOnPowerLossDisk(storage.directory, powerLossFileSystems.get(storage)!),
  destroy: (storage) => storage.close(),
  crash: async (storage) => {
    const survivor = powerLossFileSystems.get(storage)!.crash();
    // The old instance's files are gone with the power; closing it only releases its lock.
    await storage.close().catch(() => undefined);
    return storageOnPowerLossDisk(storage.directory, survivor);
  },
  recordsCleanStops: machineStopClock.bootId !== '',
});
