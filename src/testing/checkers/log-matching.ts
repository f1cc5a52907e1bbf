import type { Entry, NodeId } from '../../core/types.js';
import type { LogView } from './cluster-view.js';
import { entryContentKey } from './entry-key.js';
import type { ViolationLog } from './safety-violation.js';

interface Seen {
  readonly nodeId: NodeId;
  readonly previousTerm: number | undefined;
  readonly content: string;
}

/**
 * Log matching (Raft §5.3): if two logs contain an entry with the same index and term, the logs
 * are identical in all entries up to that index. Checked by induction as entries are written: an
 * (index, term) pair must always carry the same content and follow the same term at index − 1.
 * Together over all indexes that is exactly the property, at a cost of one lookup per entry.
 */
export class LogMatchingChecker {
  readonly #log: ViolationLog;
  readonly #seen = new Map<string, Seen>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** `nodeId` wrote `entries` into `log` (which already holds them). */
  observeEntries(nodeId: NodeId, entries: readonly Entry[], log: Pick<LogView, 'termAt'>): void {
    for (const entry of entries) {
      this.#log.count();
      const key = `${entry.index}/${entry.term}`;
      const seen: Seen = {
        nodeId,
        previousTerm: log.termAt(entry.index - 1),
        content: entryContentKey(entry),
      };
      const earlier = this.#seen.get(key);
      if (earlier === undefined) {
        this.#seen.set(key, seen);
        continue;
      }
      if (earlier.content !== seen.content) {
        this.#log.report(
          'log-matching',
          `entry ${key} differs between ${earlier.nodeId} (${earlier.content}) and ${nodeId} (${seen.content})`,
        );
      } else if (
        earlier.previousTerm !== undefined &&
        seen.previousTerm !== undefined &&
        earlier.previousTerm !== seen.previousTerm
      ) {
        this.#log.report(
          'log-matching',
          `entry ${key} follows term ${earlier.previousTerm} on ${earlier.nodeId} but term ${seen.previousTerm} on ${nodeId}`,
        );
      }
    }
  }
}
