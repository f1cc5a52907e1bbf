import type { Ready } from '../core/index.js';
import type { LogStorage } from '../storage/log-storage.js';
import type { NodeCounters } from './node-counters.js';
import { wrapStorage } from './node-errors.js';

/**
 * Writes what a Ready asks to be durable (hard state and new entries) in one `save`, so everything
 * that arrived in the same turn shares one sync (group commit). Resolves once it is durable; a
 * failure is `STORAGE_FAILED`, which is fatal for the node.
 */
export async function persistReady(
  storage: Pick<LogStorage, 'save'>,
  ready: Ready,
  counters: NodeCounters,
): Promise<void> {
  if (ready.hardState === null && ready.entries.length === 0) return;
  const batch = {
    ...(ready.hardState === null ? {} : { hardState: ready.hardState }),
    ...(ready.entries.length === 0 ? {} : { entries: ready.entries }),
  };
  await wrapStorage(() => storage.save(batch));
  counters.increment('storageWrites');
  counters.add('entriesPersisted', ready.entries.length);
}
