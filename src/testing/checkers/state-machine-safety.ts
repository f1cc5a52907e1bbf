import type { NodeId } from '../../core/types.js';
import type { AppliedEntry } from '../sim/recording-state-machine.js';
import type { ViolationLog } from './safety-violation.js';

/** An entry known to be committed because some node applied it. */
export interface CommittedEntry extends AppliedEntry {
  /**
   * The lowest term any node was in when it applied the entry. The entry was committed in that
   * term or earlier, so every leader of a later term must hold it (leader completeness).
   */
  readonly observedTerm: number;
  /** The node that applied it first. */
  readonly firstNodeId: NodeId;
}

/**
 * State machine safety (Raft §5.4.3): if a node has applied an entry at an index, no other node
 * ever applies a different entry at that index. Also checks that each process incarnation applies
 * indexes in order without gaps. What nodes apply is, by definition, the committed log; it is kept
 * here for the other checkers.
 */
export class StateMachineSafetyChecker {
  readonly #log: ViolationLog;
  readonly #committed = new Map<number, CommittedEntry>();
  readonly #lastAppliedByIncarnation = new Map<string, number>();
  #lastCommittedIndex = 0;

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** The highest index any node applied. */
  get lastCommittedIndex(): number {
    return this.#lastCommittedIndex;
  }

  /** The committed entry at `index`, if a node applied it. */
  committed(index: number): CommittedEntry | undefined {
    return this.#committed.get(index);
  }

  /** Every committed entry known, by index. */
  committedEntries(): ReadonlyMap<number, CommittedEntry> {
    return this.#committed;
  }

  /**
   * `nodeId` (in process incarnation `incarnation`, in `term`) applied `entry`. Returns the record
   * when it is new or its observed term dropped, so leader completeness can check it.
   */
  observeApplied(
    nodeId: NodeId,
    incarnation: number,
    entry: AppliedEntry,
    term: number,
  ): CommittedEntry | null {
    this.#log.count(2);
    const process = `${nodeId}#${incarnation}`;
    const previousIndex = this.#lastAppliedByIncarnation.get(process);
    if (previousIndex !== undefined && entry.index !== previousIndex + 1) {
      this.#log.report(
        'state-machine-safety',
        `${nodeId} applied index ${entry.index} right after ${previousIndex}`,
      );
    }
    this.#lastAppliedByIncarnation.set(process, entry.index);
    const earlier = this.#committed.get(entry.index);
    if (earlier === undefined) {
      const record: CommittedEntry = { ...entry, observedTerm: term, firstNodeId: nodeId };
      this.#committed.set(entry.index, record);
      this.#lastCommittedIndex = Math.max(this.#lastCommittedIndex, entry.index);
      return record;
    }
    if (earlier.term !== entry.term || earlier.command !== entry.command) {
      this.#log.report(
        'state-machine-safety',
        `index ${entry.index}: ${earlier.firstNodeId} applied ${describe(earlier)}, ${nodeId} applied ${describe(entry)}`,
      );
      return null;
    }
    if (term < earlier.observedTerm) {
      const record: CommittedEntry = { ...earlier, observedTerm: term };
      this.#committed.set(entry.index, record);
      return record;
    }
    return null;
  }

  /**
   * `nodeId` (in process incarnation `incarnation`) replaced its state with a snapshot covering
   * every entry up to `index`: the next entry it applies is `index + 1`. A snapshot holds only
   * applied entries, so one past everything any node applied is a violation.
   */
  observeRestored(nodeId: NodeId, incarnation: number, index: number): void {
    this.#log.count();
    if (index > this.#lastCommittedIndex) {
      this.#log.report(
        'state-machine-safety',
        `${nodeId} restored a snapshot at ${index}, past every applied index (${this.#lastCommittedIndex})`,
      );
    }
    const process = `${nodeId}#${incarnation}`;
    const previousIndex = this.#lastAppliedByIncarnation.get(process);
    if (previousIndex !== undefined && index <= previousIndex) {
      this.#log.report(
        'state-machine-safety',
        `${nodeId} restored a snapshot at ${index} after applying ${previousIndex}: its state went back`,
      );
    }
    this.#lastAppliedByIncarnation.set(process, index);
  }
}

function describe(entry: AppliedEntry): string {
  return `term ${entry.term} ${entry.command === null ? 'non-command' : `command ${entry.command}`}`;
}
