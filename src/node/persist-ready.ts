import { RaftError, type Entry, type HardState, type Ready } from '../core/index.js';
import type { LogStorage, SaveBatch } from '../storage/log-storage.js';
import type { NodeCounters } from './node-counters.js';
import { storageFailure } from './node-errors.js';

/**
 * What several Ready values, taken one after the other, ask to be durable, as one storage save:
 * the newest hard state, and their entries in order, where a later Ready that replaces a suffix
 * (a new leader overwrote it) wins from its first index on — exactly what the saves one by one
 * would have left on disk. Null when none of them writes anything.
 */
export function mergeWrites(readies: readonly Ready[]): SaveBatch | null {
  let hardState: HardState | null = null;
  let entries: readonly Entry[] = [];
  for (const ready of readies) {
    if (ready.hardState !== null) hardState = ready.hardState;
    const first = ready.entries[0];
    if (first === undefined) continue;
    if (entries.length === 0) {
      entries = ready.entries;
      continue;
    }
    const kept = first.index - entries[0]!.index;
    if (kept > entries.length) {
      throw new RaftError('INVARIANT', `entries from ${first.index} leave a gap in the write`);
    }
    entries = kept <= 0 ? ready.entries : [...entries.slice(0, kept), ...ready.entries];
  }
  // Literals rather than conditional spreads: spreading was most of this function's cost, and it
  // runs on every write.
  if (entries.length === 0) return hardState === null ? null : { hardState };
  return hardState === null ? { entries } : { hardState, entries };
}

/**
 * Writes what a turn's Ready values ask to be durable in one `save`, so everything that arrived
 * while the previous write was in flight shares one sync (group commit). Resolves once it is
 * durable; a failure is `STORAGE_FAILED`, which is fatal for the node.
 */
export async function persistReadies(
  storage: Pick<LogStorage, 'save'>,
  readies: readonly Ready[],
  counters: NodeCounters,
): Promise<void> {
  const batch = mergeWrites(readies);
  if (batch === null) return;
  try {
    // Awaited here rather than through wrapStorage: one async level less on every save.
    await storage.save(batch);
  } catch (error) {
    throw storageFailure(error);
  }
  counters.storageWrites++;
  counters.entriesPersisted += batch.entries?.length ?? 0;
}
