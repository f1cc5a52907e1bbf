import type { NodeId } from '../../core/types.js';
import type { ViolationLog } from './safety-violation.js';

/**
 * A node's commit index never goes down while its process lives, never exceeds its last index,
 * and after a restart never starts below the floor its durable state promises (the commit stored
 * in its hard state, or what its state machine says it durably applied).
 */
export class CommitMonotonicChecker {
  readonly #log: ViolationLog;
  readonly #commitOf = new Map<string, number>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** The commit index `nodeId` (incarnation `incarnation`) reports now. */
  observeCommit(
    nodeId: NodeId,
    incarnation: number,
    status: { readonly commitIndex: number; readonly lastIndex: number },
  ): void {
    this.#log.count(2);
    const process = `${nodeId}#${incarnation}`;
    const previous = this.#commitOf.get(process);
    if (previous !== undefined && status.commitIndex < previous) {
      this.#log.report(
        'commit-monotonic',
        `${nodeId}'s commit index went down from ${previous} to ${status.commitIndex}`,
      );
    }
    if (status.commitIndex > status.lastIndex) {
      this.#log.report(
        'commit-monotonic',
        `${nodeId}'s commit index ${status.commitIndex} is beyond its last index ${status.lastIndex}`,
      );
    }
    this.#commitOf.set(process, status.commitIndex);
  }

  /** `nodeId` restarted (incarnation `incarnation`) with `commitIndex`; `floor` is the promise. */
  observeRestart(nodeId: NodeId, commitIndex: number, floor: number): void {
    this.#log.count();
    if (commitIndex < floor) {
      this.#log.report(
        'commit-monotonic',
        `${nodeId} restarted with commit index ${commitIndex}, below its durable ${floor}`,
      );
    }
  }
}
