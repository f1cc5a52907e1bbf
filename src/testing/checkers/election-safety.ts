import type { NodeId } from '../../core/types.js';
import type { ViolationLog } from './safety-violation.js';

/** Terms remembered; a run elects far fewer leaders, and the limit keeps memory bounded anyway. */
export const electionSafetyTermsMax = 1_000_000;

/**
 * Election safety (Raft §5.2): at most one leader can be elected in a given term, over the whole
 * run, restarts included.
 */
export class ElectionSafetyChecker {
  readonly #log: ViolationLog;
  readonly #leaderOfTerm = new Map<number, NodeId>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** `nodeId` became leader in `term`. */
  observeLeader(nodeId: NodeId, term: number): void {
    this.#log.count();
    const previous = this.#leaderOfTerm.get(term);
    if (previous !== undefined && previous !== nodeId) {
      this.#log.report(
        'election-safety',
        `two leaders in term ${term}: ${previous} and then ${nodeId}`,
      );
      return;
    }
    if (this.#leaderOfTerm.size < electionSafetyTermsMax) this.#leaderOfTerm.set(term, nodeId);
  }

  /** The leader recorded for `term`, if any. */
  leaderOf(term: number): NodeId | undefined {
    return this.#leaderOfTerm.get(term);
  }
}
