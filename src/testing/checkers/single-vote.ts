import type { NodeId } from '../../core/types.js';
import type { ViolationLog } from './safety-violation.js';

/** (voter, term) pairs remembered; beyond it old ones are forgotten first. */
export const singleVoteTermsMax = 1_000_000;

/**
 * One vote per term (Raft Figure 2, `votedFor`): a server grants its vote to at most one candidate
 * in a term, across restarts. It is what election safety rests on, and it is visible on the wire,
 * so a lost vote is caught as soon as it is given twice, before two leaders are ever elected.
 * Pre-votes are not votes and are left out.
 */
export class SingleVoteChecker {
  readonly #log: ViolationLog;
  readonly #votes = new Map<string, NodeId>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** `voter` sent a granted (real) vote to `candidate` in `term`. */
  observeVote(voter: NodeId, candidate: NodeId, term: number): void {
    this.#log.count();
    const key = `${voter}@${term}`;
    const earlier = this.#votes.get(key);
    if (earlier !== undefined && earlier !== candidate) {
      this.#log.report(
        'election-safety',
        `${voter} voted twice in term ${term}: for ${earlier} and for ${candidate}`,
      );
      return;
    }
    if (this.#votes.size >= singleVoteTermsMax) {
      const oldest = this.#votes.keys().next().value;
      if (oldest !== undefined) this.#votes.delete(oldest);
    }
    this.#votes.set(key, candidate);
  }
}
