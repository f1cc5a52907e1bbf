import type { Entry, NodeId } from '../../core/types.js';
import type { ProcessView } from './cluster-view.js';
import { entryKey } from './entry-key.js';
import type { ViolationLog } from './safety-violation.js';

/** Committed indexes remembered; a run commits far fewer, and the limit keeps memory bounded. */
export const committedEntriesMax = 1_000_000;

/** An entry known to be committed because some server's commit index covered it. */
export interface CommittedEntry {
  readonly index: number;
  readonly term: number;
  /** The entry as {@link entryKey}: position, term and content. */
  readonly key: string;
  /**
   * The lowest term a server was in when its commit index was seen covering the entry. It was
   * committed in that term or earlier, so every leader of a later term must hold it.
   */
  readonly observedTerm: number;
  /** The server it was first seen committed on. */
  readonly firstNodeId: NodeId;
}

/**
 * State machine safety on logs (Raft §5.4.3, Figure 3): once an entry is committed at an index,
 * every server that commits that index commits the same entry. Each server's commit index is
 * followed as it grows; the committed log found so far is kept here for the checkers built on it
 * (leader completeness). Writes are not judged against it: a stale leader, and a follower that
 * still listens to one, may rightly write other entries at a committed index; they are replaced
 * before that server commits there.
 */
export class CommittedLogChecker {
  readonly #log: ViolationLog;
  readonly #committed = new Map<number, CommittedEntry>();
  /** `server#incarnation` → the index up to which its committed entries were compared. */
  readonly #comparedUpTo = new Map<string, number>();
  #highest: CommittedEntry | null = null;

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** The committed entry at the highest index seen, or null before anything commits. */
  get highest(): CommittedEntry | null {
    return this.#highest;
  }

  /** Every committed entry seen, by index. */
  entries(): ReadonlyMap<number, CommittedEntry> {
    return this.#committed;
  }

  /** The committed entry at `index`, if one was seen. */
  at(index: number): CommittedEntry | undefined {
    return this.#committed.get(index);
  }

  /**
   * Compares what `nodeId`'s process newly committed with the committed log. Only entries it can
   * read are compared; the rest are taken once its log holds them. Returns the records that are
   * new or now known committed in an earlier term, for the checkers that build on them.
   */
  observeCommit(nodeId: NodeId, process: ProcessView): CommittedEntry[] {
    const key = `${nodeId}#${process.incarnation}`;
    const from = Math.max(this.#comparedUpTo.get(key) ?? 0, process.log.snapshotIndex) + 1;
    const to = Math.min(process.commitIndex, process.log.lastIndex);
    const changed: CommittedEntry[] = [];
    let index = from;
    for (; index <= to; index++) {
      const entry = process.log.entry(index);
      if (entry === undefined) break;
      const record = this.#observe(nodeId, entry, process.term);
      if (record !== null) changed.push(record);
    }
    if (index > from) this.#comparedUpTo.set(key, index - 1);
    return changed;
  }

  #observe(nodeId: NodeId, entry: Entry, term: number): CommittedEntry | null {
    this.#log.count();
    const key = entryKey(entry);
    const earlier = this.#committed.get(entry.index);
    if (earlier === undefined) {
      if (this.#committed.size >= committedEntriesMax) return null;
      const record = { index: entry.index, term: entry.term, key, observedTerm: term };
      const committed: CommittedEntry = { ...record, firstNodeId: nodeId };
      this.#committed.set(entry.index, committed);
      if (this.#highest === null || entry.index > this.#highest.index) this.#highest = committed;
      return committed;
    }
    if (earlier.key !== key) {
      this.#log.report(
        'state-machine-safety',
        `committed entry ${entry.index} changed: ${earlier.firstNodeId} committed ${earlier.key}, ${nodeId} committed ${key}`,
      );
      return null;
    }
    if (term >= earlier.observedTerm) return null;
    const lowered: CommittedEntry = { ...earlier, observedTerm: term };
    this.#committed.set(entry.index, lowered);
    if (this.#highest?.index === entry.index) this.#highest = lowered;
    return lowered;
  }
}
