import type { Configuration, NodeId } from '../../core/types.js';
import { isQuorum, type ClusterView, type ServerView } from './cluster-view.js';
import type { ViolationLog } from './safety-violation.js';

interface Seen {
  readonly commitIndex: number;
  readonly configuration: Configuration;
}

/**
 * Committed means stored on a quorum (§5.3), and stored means durable: when a leader's commit
 * index moves to `c`, the entry at `c` must be on the disks of a quorum of its configuration. A
 * leader counts its own entries only once durable (thesis §10.2.1) and followers acknowledge only
 * what they wrote, so a copy a crash would lose never counts. The configuration may change in the
 * step that moved the commit index, so a quorum of the one seen before it is accepted too.
 */
export class CommitDurabilityChecker {
  readonly #log: ViolationLog;
  /** `server#incarnation` → its commit index and configuration when last seen. */
  readonly #seen = new Map<string, Seen>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** Looks at `server` after a step; `cluster` tells whose disk holds what. */
  observe(server: ServerView, cluster: ClusterView): void {
    const process = server.process;
    if (process === null) return;
    const key = `${server.id}#${process.incarnation}`;
    const before = this.#seen.get(key);
    const { commitIndex, configuration } = process;
    this.#seen.set(key, { commitIndex, configuration });
    if (process.role !== 'leader' || before === undefined || commitIndex <= before.commitIndex) {
      return;
    }
    const term = process.log.termAt(commitIndex);
    if (term === undefined) return;
    this.#log.count();
    const onDisk = (id: NodeId): boolean => {
      const log = cluster.server(id)?.durable.log;
      return (
        log !== undefined && (commitIndex <= log.snapshotIndex || log.termAt(commitIndex) === term)
      );
    };
    if (!isQuorum(configuration, onDisk) && !isQuorum(before.configuration, onDisk)) {
      this.#log.report(
        'durability',
        `${server.id} committed ${commitIndex}/${term} but no quorum of its configuration holds it on disk`,
      );
    }
  }
}
