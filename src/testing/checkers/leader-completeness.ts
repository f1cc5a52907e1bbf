import type { Entry, NodeId } from '../../core/types.js';
import { commandKey } from '../sim/entry-key.js';
import { decodeSessionEntry } from '../../node/session-envelope.js';
import type { ViolationLog } from './safety-violation.js';
import type { CommittedEntry, StateMachineSafetyChecker } from './state-machine-safety.js';

/** A leader's log as the checker reads it. */
export interface LeaderLogView {
  /** Entries up to here were compacted into a snapshot and cannot be compared. */
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  entry(index: number): Entry | undefined;
}

interface Leader {
  readonly nodeId: NodeId;
  readonly term: number;
  readonly log: LeaderLogView;
}

/**
 * Leader completeness (Raft §5.4): an entry committed in a term is present in the log of every
 * leader of a later term. Checked when a node becomes leader (against everything committed so
 * far) and whenever an entry becomes known as committed (against every current leader). A leader
 * never removes entries from its log during its term, so nothing is missed in between.
 */
export class LeaderCompletenessChecker {
  readonly #log: ViolationLog;
  readonly #committed: StateMachineSafetyChecker;
  readonly #leaders = new Map<NodeId, Leader>();

  constructor(log: ViolationLog, committed: StateMachineSafetyChecker) {
    this.#log = log;
    this.#committed = committed;
  }

  /** `nodeId` leads in `term` with `log`; checks it holds every entry committed before. */
  observeLeader(nodeId: NodeId, term: number, log: LeaderLogView): void {
    const leader = { nodeId, term, log };
    this.#leaders.set(nodeId, leader);
    for (const committed of this.#committed.committedEntries().values()) {
      this.#check(leader, committed);
    }
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
    if (entry === undefined || entry.term !== committed.term || !sameContent(entry, committed)) {
      this.#log.report(
        'leader-completeness',
        `${leader.nodeId}, leader of term ${leader.term}, lacks entry ${committed.index}/${committed.term} committed by term ${committed.observedTerm}${entry === undefined ? '' : ` (holds ${entry.index}/${entry.term} ${entry.kind})`}`,
      );
    }
  }
}

/**
 * Whether the leader's entry is the one a node applied. A session entry reaches the state machine
 * as the command inside it, or not at all (a registration, or a copy answered from the session
 * table), so either is what its application looks like.
 */
function sameContent(entry: Entry, committed: CommittedEntry): boolean {
  if (entry.kind === 'command') return commandKey(entry.data) === committed.command;
  if (entry.kind !== 'session') return committed.command === null;
  if (committed.command === null) return true;
  try {
    const record = decodeSessionEntry(entry.data);
    return record.kind === 'command' && commandKey(record.command) === committed.command;
  } catch {
    return false;
  }
}
