import { join } from 'node:path';
import { isRaftError } from '../../core/index.js';
import {
  cleanStopBytesMax,
  cleanStopRecord,
  elapsedSinceCleanStop,
  type StopClock,
} from '../clean-stop-record.js';
import type { StorageFileSystem } from './file-system.js';
import { readWholeFile } from './state-file.js';

/** Written by `recordCleanStop` while the lock is still held; read and removed by the next open. */
export const cleanStopFileName = 'STOPPED';

/**
 * Records that the storage's holder stopped cleanly now: it has sent its last message. Not
 * synced, on purpose: a process crash keeps what was written, and a power loss — which could
 * lose the write — also changes the boot id, which voids the record anyway.
 */
export async function writeCleanStop(
  fileSystem: StorageFileSystem,
  directory: string,
  clock: StopClock,
): Promise<void> {
  const record = cleanStopRecord(clock);
  if (record === null) return;
  const file = await fileSystem.open(join(directory, cleanStopFileName), 'replace');
  try {
    await file.write(new TextEncoder().encode(record), 0);
  } finally {
    await file.close();
  }
}

/**
 * Milliseconds since the previous holder stopped cleanly, or `undefined` when that is not known
 * (no record: it crashed, or never ran; a record from another boot, or unreadable). The record is
 * removed before this resolves, whatever it said: it speaks for the previous holder only, and
 * must not outlive this one into a crash.
 */
export async function takeCleanStop(
  fileSystem: StorageFileSystem,
  directory: string,
  clock: StopClock,
): Promise<number | undefined> {
  const path = join(directory, cleanStopFileName);
  let text: string;
  try {
    text = new TextDecoder().decode(await readWholeFile(fileSystem, path, cleanStopBytesMax));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Larger than any record: not one, and removed all the same.
    if (!isRaftError(error, 'CORRUPT_STORAGE')) throw error;
    text = '';
  }
  await fileSystem.remove(path);
  return elapsedSinceCleanStop(text, clock);
}
