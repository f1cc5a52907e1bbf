import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { cleanStopRecordTests } from '../clean-stop.test-helpers.js';
import { cleanStopFileName } from './clean-stop.js';
import { FileStorage } from './file-storage.js';

const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0)) {
    rmSync(directory, { recursive: true, force: true });
  }
});

cleanStopRecordTests('FileStorage', {
  create() {
    const directory = mkdtempSync(join(tmpdir(), 'raftkit-clean-stop-'));
    directories.push(directory);
    return directory;
  },
  storage: (directory, stopClock) => new FileStorage({ directory, stopClock }),
  storedRecord(directory) {
    const path = join(directory, cleanStopFileName);
    return existsSync(path) ? readFileSync(path, 'utf8') : null;
  },
  storeRecord(directory, record) {
    writeFileSync(join(directory, cleanStopFileName), record);
  },
});
