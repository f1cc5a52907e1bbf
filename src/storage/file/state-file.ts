import { join } from 'node:path';
import { RaftError } from '../../core/index.js';
import type { StorageFileSystem } from './file-system.js';
import { decodeStateFile, encodeStateFile, type StateRecord } from './record-format.js';

/** The state file's name: compaction marker, a hard state, and where the live log starts. */
export const stateFileName = 'state';
/** Where a new state file is written before it replaces the old one. */
export const stateTemporaryFileName = 'state.tmp';
/** A state file is a marker and a hard state; anything larger is not one. */
const stateFileBytesMax = 4 * 1024 * 1024;

/** Reads a whole small file, refusing files over `bytesMax`. */
export async function readWholeFile(
  fileSystem: StorageFileSystem,
  path: string,
  bytesMax: number,
): Promise<Uint8Array> {
  const file = await fileSystem.open(path, 'read');
  try {
    const size = await file.size();
    if (size > bytesMax) {
      throw new RaftError('CORRUPT_STORAGE', `${path} is ${size} bytes, over ${bytesMax}`, {
        details: { file: path, offset: 0 },
      });
    }
    const bytes = new Uint8Array(size);
    const read = await file.read(bytes, 0);
    return bytes.subarray(0, read);
  } finally {
    await file.close();
  }
}

/** Reads the state file; `null` when there is none (the directory was never bootstrapped). */
export async function readStateFile(
  fileSystem: StorageFileSystem,
  directory: string,
): Promise<StateRecord | null> {
  const path = join(directory, stateFileName);
  let bytes: Uint8Array;
  try {
    bytes = await readWholeFile(fileSystem, path, stateFileBytesMax);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let state: StateRecord | null;
  try {
    state = decodeStateFile(bytes);
  } catch {
    state = null;
  }
  if (state === null) {
    // The file only ever appears through an atomic rename of a synced file, so damage here is
    // not a torn write: something else changed it.
    throw new RaftError('CORRUPT_STORAGE', `${path} is damaged`, {
      details: { file: path, offset: 0 },
    });
  }
  return state;
}

/**
 * Replaces the state file atomically: write a temporary file, sync it, rename it over the old
 * one, sync the directory. A crash at any point leaves either the old file or the new one.
 */
export async function writeStateFile(
  fileSystem: StorageFileSystem,
  directory: string,
  state: StateRecord,
): Promise<void> {
  const temporaryPath = join(directory, stateTemporaryFileName);
  const file = await fileSystem.open(temporaryPath, 'replace');
  try {
    await file.write(encodeStateFile(state), 0);
    await file.datasync();
  } finally {
    await file.close();
  }
  await fileSystem.rename(temporaryPath, join(directory, stateFileName));
  await fileSystem.syncDirectory(directory);
}
