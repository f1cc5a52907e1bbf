import type { Logger } from 'raftkit';
import type { KvNode } from './server/request-executor.js';

/** Least time between two progress lines while the log is replayed. */
export const progressIntervalMs = 2000;

/**
 * Reports, while a server starts, how far it has replayed its log into the store: a line every
 * {@link progressIntervalMs} while it is behind its commit index, and one when it has caught up
 * (only if catching up took longer than one interval, so small restarts stay quiet).
 * Returns a function that stops reporting.
 */
export function reportStartupProgress(
  node: KvNode,
  logger: Logger,
  now: () => number = () => performance.now(),
): () => void {
  const startedMs = now();
  let lastReportMs = startedMs;
  let reported = false;
  const unsubscribe = node.on('applied', ({ appliedIndex }) => {
    const { commitIndex } = node.status();
    const elapsedMs = now() - startedMs;
    if (appliedIndex >= commitIndex) {
      if (reported) logger.info({ appliedIndex, elapsedMs: Math.round(elapsedMs) }, 'log replayed');
      unsubscribe();
      return;
    }
    if (now() - lastReportMs < progressIntervalMs) return;
    lastReportMs = now();
    reported = true;
    logger.info(
      {
        appliedIndex,
        commitIndex,
        percent: Math.floor((100 * appliedIndex) / Math.max(commitIndex, 1)),
      },
      'replaying the log',
    );
  });
  return unsubscribe;
}
