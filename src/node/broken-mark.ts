import type { LogStorage } from '../storage/log-storage.js';

/**
 * Clears the mark a failed apply left on storage, after the operator has repaired the state
 * machine (restored it from a backup or a snapshot, or fixed the bug and verified the state).
 * The storage must be closed (no node running on it).
 */
export async function clearBrokenMark(storage: LogStorage): Promise<void> {
  await storage.open();
  try {
    await storage.setBroken(null);
  } finally {
    await storage.close();
  }
}
