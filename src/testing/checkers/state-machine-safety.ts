import type { Entry, NodeId } from '../../core/types.js';
import type { CommittedLogChecker } from './committed-log.js';
import { commandKey } from './entry-key.js';
import type { ViolationLog } from './safety-violation.js';

/** One entry a node applied: its position and what it held (`null` for a non-command entry). */
export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  /** The command's bytes as {@link commandKey}, or `null` for a noop, configuration or settings. */
  readonly command: string | null;
}

/** An entry as a state machine sees it applied: only commands carry something to compare. */
export function appliedEntryOf(entry: Entry): AppliedEntry {
  const command = entry.kind === 'command' ? commandKey(entry.data) : null;
  return { index: entry.index, term: entry.term, command };
}

/** An applied entry, and the node that applied it first. */
export interface AppliedRecord extends AppliedEntry {
  readonly firstNodeId: NodeId;
}

/**
 * State machine safety (Raft §5.4.3): if a node has applied an entry at an index, no other node
 * ever applies a different entry at that index, and what is applied is what was committed there.
 * Also checks that each process incarnation applies indexes in order without gaps. What nodes
 * apply is kept here for the checkers of client outcomes (exactly once, acknowledged writes).
 */
export class StateMachineSafetyChecker {
  readonly #log: ViolationLog;
  readonly #committedLog: CommittedLogChecker;
  readonly #committed = new Map<number, AppliedRecord>();
  readonly #lastAppliedByIncarnation = new Map<string, number>();
  #lastCommittedIndex = 0;

  constructor(log: ViolationLog, committedLog: CommittedLogChecker) {
    this.#log = log;
    this.#committedLog = committedLog;
  }

  /** The highest index any node applied. */
  get lastCommittedIndex(): number {
    return this.#lastCommittedIndex;
  }

  /** The entry applied at `index`, if a node applied it. */
  committed(index: number): AppliedRecord | undefined {
    return this.#committed.get(index);
  }

  /** Every applied entry known, by index. */
  committedEntries(): ReadonlyMap<number, AppliedRecord> {
    return this.#committed;
  }

  /** `nodeId` (in process incarnation `incarnation`) applied `entry`. */
  observeApplied(nodeId: NodeId, incarnation: number, entry: AppliedEntry): void {
    this.#log.count(3);
    const process = `${nodeId}#${incarnation}`;
    const previousIndex = this.#lastAppliedByIncarnation.get(process);
    if (previousIndex !== undefined && entry.index !== previousIndex + 1) {
      this.#log.report(
        'state-machine-safety',
        `${nodeId} applied index ${entry.index} right after ${previousIndex}`,
      );
    }
    this.#lastAppliedByIncarnation.set(process, entry.index);
    const committed = this.#committedLog.at(entry.index);
    if (committed !== undefined && committed.term !== entry.term) {
      this.#log.report(
        'state-machine-safety',
        `${nodeId} applied ${describe(entry)} at ${entry.index} but ${committed.key} was committed there`,
      );
    }
    const earlier = this.#committed.get(entry.index);
    if (earlier === undefined) {
      this.#committed.set(entry.index, { ...entry, firstNodeId: nodeId });
      this.#lastCommittedIndex = Math.max(this.#lastCommittedIndex, entry.index);
    } else if (earlier.term !== entry.term || earlier.command !== entry.command) {
      this.#log.report(
        'state-machine-safety',
        `index ${entry.index}: ${earlier.firstNodeId} applied ${describe(earlier)}, ${nodeId} applied ${describe(entry)}`,
      );
    }
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
