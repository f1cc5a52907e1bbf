import type { NodeId } from '../../core/types.js';
import type { LogView } from './cluster-view.js';
import type { CommittedEntry, CommittedLogChecker } from './committed-log.js';
import { entryKey } from './entry-key.js';
import type { ViolationLog } from './safety-violation.js';

interface Leader {
  readonly nodeId: NodeId;
  readonly term: number;
  readonly log: LogView;
}

/**
 * Leader completeness (Raft §5.4): an entry committed in a term is present in the log of every
 * leader of a later term. Checked when a node becomes leader (against everything committed so
 * far) and whenever an entry becomes known as committed (against every current leader). A leader
 * never removes entries from its log during its term, so nothing is missed in between.
 */
export class LeaderCompletenessChecker {
  readonly #log: ViolationLog;
  readonly #committed: CommittedLogChecker;
  readonly #leaders = new Map<NodeId, Leader>();

  constructor(log: ViolationLog, committed: CommittedLogChecker) {
    this.#log = log;
    this.#committed = committed;
  }

  /** `nodeId` leads in `term` with `log`; checks it holds every entry committed before. */
  observeLeader(nodeId: NodeId, term: number, log: LogView): void {
    // Seen again after every step while it leads: its log was checked when its term began.
    if (this.#leaders.get(nodeId)?.term === term) return;
    const leader = { nodeId, term, log };
    this.#leaders.set(nodeId, leader);
    for (const committed of this.#committed.entries().values()) this.#check(leader, committed);
  }

  /** `nodeId` no longer leads (it stepped down, stopped or crashed). */
  observeNotLeader(nodeId: NodeId): void {
    this.#leaders.delete(nodeId);
  }

  /** A committed entry became known (or known in an earlier term). */
  observeCommitted(committed: CommittedEntry): void {
    for (const leader of this.#leaders.values()) this.#check(leader, committed);
  }

  #check(leader: Leader, committed: CommittedEntry): void {
    if (committed.observedTerm >= leader.term) return;
    this.#log.count();
    if (committed.index <= leader.log.snapshotIndex) return;
    const entry = leader.log.entry(committed.index);
    if (entry === undefined || entryKey(entry) !== committed.key) {
      this.#log.report(
        'leader-completeness',
        `${leader.nodeId}, leader of term ${leader.term}, lacks entry ${committed.key} committed by term ${committed.observedTerm} (holds ${entry === undefined ? 'nothing' : entryKey(entry)})`,
      );
    }
  }
}
