import { join } from 'node:path';
import type { StorageFileSystem } from './file-system.js';
import { readWholeFile } from './state-file.js';

/** Present only while a failed apply has left the application's state untrustworthy. */
export const brokenFileName = 'broken';
const brokenTemporaryFileName = 'broken.tmp';
/** The mark holds a short reason; anything larger is not one. */
const brokenFileBytesMax = 64 * 1024;

/** The recorded reason, or `null` when the directory is not marked broken. */
export async function readBrokenMark(
  fileSystem: StorageFileSystem,
  directory: string,
): Promise<string | null> {
  try {
    const bytes = await readWholeFile(
      fileSystem,
      join(directory, brokenFileName),
      brokenFileBytesMax,
    );
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Durably sets (write, sync, rename, sync the directory) or clears (remove, sync the directory)
 * the mark, so a crash leaves either the old mark or the new one.
 */
export async function writeBrokenMark(
  fileSystem: StorageFileSystem,
  directory: string,
  reason: string | null,
): Promise<void> {
  const path = join(directory, brokenFileName);
  if (reason === null) {
    try {
      await fileSystem.remove(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  } else {
    const temporaryPath = join(directory, brokenTemporaryFileName);
    const file = await fileSystem.open(temporaryPath, 'replace');
    try {
      await file.write(new TextEncoder().encode(reason.slice(0, 4096)), 0);
      await file.datasync();
    } finally {
      await file.close();
    }
    await fileSystem.rename(temporaryPath, path);
  }
  await fileSystem.syncDirectory(directory);
}
