import { RaftError, invariant } from './errors.js';
import { entryPayload, type Entry } from './types.js';

/** An estimate of an entry's size on the wire, for byte limits. Exact sizes are the codec's job. */
export function entryBytes(entry: Entry): number {
  const payload = entryPayload(entry);
  return payload === null ? 64 : 24 + payload.byteLength;
}

/** The result of matching a leader's entries against the local log. */
export interface AppendResult {
  /** Index of the last entry the leader's message covered. */
  readonly lastNewIndex: number;
  /** First index that was overwritten, or 0 when nothing already present was replaced. */
  readonly truncatedFrom: number;
  /** The entries that were new to this log (after the part it already held). */
  readonly appended: readonly Entry[];
}

/**
 * The log as the core sees it: entries after the snapshot marker, held in memory, with the indexes
 * that separate durable from unsynced entries and committed from applied ones.
 */
export class RaftLog {
  #snapshotIndex: number;
  #snapshotTerm: number;
  // entries[k] has index snapshotIndex + 1 + k.
  #entries: Entry[];
  /** The first index not yet handed to storage-and-acknowledged (lastIndex + 1 when all are). */
  #unstableFrom: number;
  /**
   * The first index not yet handed to storage at all. Entries from `#unstableFrom` up to here are
   * being written: a runtime that persists while it keeps stepping must not be handed them twice.
   */
  #unsentFrom: number;
  #committed: number;
  /** The highest index handed to the application for applying. */
  #applying: number;

  constructor(options: {
    snapshotIndex: number;
    snapshotTerm: number;
    entries: readonly Entry[];
    committed: number;
    applied: number;
  }) {
    this.#snapshotIndex = options.snapshotIndex;
    this.#snapshotTerm = options.snapshotTerm;
    this.#entries = [...options.entries];
    this.#entries.forEach((entry, position) => {
      invariant(
        entry.index === options.snapshotIndex + 1 + position,
        'stored entries are consecutive',
      );
      invariant(
        entry.term >= (position === 0 ? options.snapshotTerm : this.#entries[position - 1]!.term),
        'stored terms never decrease',
      );
    });
    this.#unstableFrom = this.lastIndex + 1;
    this.#unsentFrom = this.#unstableFrom;
    // Both marks were saved after the entries they cover: beyond the log, entries were lost.
    for (const [mark, index] of [
      ['commit index', options.committed],
      ['applied index', options.applied],
    ] as const) {
      if (index > this.lastIndex) {
        throw new RaftError(
          'CORRUPT_STORAGE',
          `the stored ${mark} ${index} is beyond the last stored entry ${this.lastIndex}: entries that were durable are gone`,
          {
            details: {
              [mark === 'commit index' ? 'commit' : 'applied']: index,
              lastIndex: this.lastIndex,
            },
          },
        );
      }
    }
    this.#applying = Math.max(options.applied, options.snapshotIndex);
    this.#committed = Math.max(options.committed, this.#applying);
  }

  get snapshotIndex(): number {
    return this.#snapshotIndex;
  }

  get snapshotTerm(): number {
    return this.#snapshotTerm;
  }

  get firstIndex(): number {
    return this.#snapshotIndex + 1;
  }

  get lastIndex(): number {
    return this.#snapshotIndex + this.#entries.length;
  }

  get lastTerm(): number {
    return this.#entries.at(-1)?.term ?? this.#snapshotTerm;
  }

  get committed(): number {
    return this.#committed;
  }

  get applying(): number {
    return this.#applying;
  }

  /** The last index known durable on this server. */
  get stableIndex(): number {
    return this.#unstableFrom - 1;
  }

  /** The term of the entry at `index`, or undefined if the log does not hold it. */
  term(index: number): number | undefined {
    if (index === this.#snapshotIndex) return this.#snapshotTerm;
    return this.entry(index)?.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.#snapshotIndex) return undefined;
    return this.#entries[index - this.#snapshotIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a log is at least as up to date if its last term is higher, or equal with an index no lower. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }

  /** Appends entries at the end (the leader's own proposals). */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) {
      invariant(entry.index === this.lastIndex + 1, 'appended entries follow the last index');
      invariant(entry.term >= this.lastTerm, 'appended terms never decrease');
      this.#entries.push(entry);
    }
  }

  /**
   * Merges a leader's entries that follow `prevIndex` (whose term the caller has already matched).
   * Entries already present with the same term are kept; from the first conflict on, the local
   * suffix is replaced (§5.3). Only the conflicting suffix goes, never the matching prefix.
   */
  appendFromLeader(prevIndex: number, entries: readonly Entry[]): AppendResult {
    const lastNewIndex = prevIndex + entries.length;
    let firstNew = entries.length;
    for (let position = 0; position < entries.length; position++) {
      const entry = entries[position]!;
      if (this.term(entry.index) !== entry.term) {
        firstNew = position;
        break;
      }
    }
    if (firstNew === entries.length) return { lastNewIndex, truncatedFrom: 0, appended: [] };
    const from = entries[firstNew]!.index;
    let truncatedFrom = 0;
    if (from <= this.lastIndex) {
      invariant(from > this.#committed, `committed entry ${from} is never overwritten`);
      truncatedFrom = from;
      this.#entries.length = from - this.#snapshotIndex - 1;
      this.#unstableFrom = Math.min(this.#unstableFrom, from);
      this.#unsentFrom = Math.min(this.#unsentFrom, from);
    }
    const appended = entries.slice(firstNew);
    this.append(appended);
    return { lastNewIndex, truncatedFrom, appended };
  }

  /**
   * Entries from `from` up to (excluding) `to`, at most `entriesMax` of them and about `bytesMax`
   * bytes, but always at least one so that an oversized entry still makes progress.
   */
  slice(from: number, to: number, limits: { entriesMax: number; bytesMax: number }): Entry[] {
    invariant(from > this.#snapshotIndex, 'slice starts after the snapshot');
    const end = Math.min(to, this.lastIndex + 1, from + limits.entriesMax);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = from; index < end; index++) {
      const entry = this.entry(index)!;
      bytes += entryBytes(entry);
      if (result.length > 0 && bytes > limits.bytesMax) break;
      result.push(entry);
    }
    return result;
  }

  /** Whether entries wait to be handed to storage. */
  hasUnsent(): boolean {
    return this.#unsentFrom <= this.lastIndex;
  }

  /** Entries not yet handed to storage, marked handed out (they stay unstable until `stableTo`). */
  takeUnsent(): Entry[] {
    const entries = this.#entries.slice(this.#unsentFrom - this.#snapshotIndex - 1);
    this.#unsentFrom = this.lastIndex + 1;
    return entries;
  }

  /**
   * Marks entries up to `index` durable, unless the entry there has since been replaced (a
   * different term) — then the newer entries are still waiting for their own persist.
   */
  stableTo(index: number, term: number): void {
    if (this.term(index) !== term) return;
    // Entries handed out again since (after a snapshot install) wait for their own write.
    if (index >= this.#unstableFrom) this.#unstableFrom = Math.min(index + 1, this.#unsentFrom);
  }

  /** Raises the commit index; it never goes down. Returns whether it moved. */
  commitTo(index: number): boolean {
    if (index <= this.#committed) return false;
    invariant(index <= this.lastIndex, `commit ${index} within the log (last ${this.lastIndex})`);
    this.#committed = index;
    return true;
  }

  /** Committed entries not yet handed out, at most `entriesMax`, and marks them handed out. */
  takeCommitted(entriesMax: number): Entry[] {
    const to = Math.min(this.#committed, this.#applying + entriesMax);
    if (to <= this.#applying) return [];
    const result = this.#entries.slice(
      this.#applying - this.#snapshotIndex,
      to - this.#snapshotIndex,
    );
    this.#applying = to;
    return result;
  }

  hasCommittedToApply(): boolean {
    return this.#committed > this.#applying;
  }

  /**
   * Forgets the entries up to `index`, which become the new compaction marker (the runtime has
   * already made a snapshot that covers them and compacted storage the same way). Only applied,
   * durable entries are ever compacted: nothing the application or the disk still needs is lost.
   */
  compact(index: number): void {
    invariant(index >= this.#snapshotIndex, `compaction ${index} never moves the marker back`);
    invariant(index <= this.#applying, `compaction ${index} covers only applied entries`);
    invariant(index <= this.stableIndex, `compaction ${index} covers only durable entries`);
    const term = this.term(index)!;
    this.#entries = this.#entries.slice(index - this.#snapshotIndex);
    this.#snapshotIndex = index;
    this.#snapshotTerm = term;
  }

  /**
   * Replaces the log's prefix with a snapshot the leader sent (§7). When the log holds the
   * snapshot's last entry (same index and term) the entries after it stay, but are handed to
   * storage again so that disk and memory agree whatever storage kept; otherwise the whole log is
   * discarded. Returns whether entries were kept.
   */
  restore(index: number, term: number): boolean {
    invariant(index > this.#snapshotIndex, `snapshot ${index} is past the marker`);
    const keep = this.term(index) === term;
    this.#entries = keep ? this.#entries.slice(index - this.#snapshotIndex) : [];
    this.#snapshotIndex = index;
    this.#snapshotTerm = term;
    this.#unstableFrom = index + 1;
    this.#unsentFrom = index + 1;
    this.#committed = Math.max(this.#committed, index);
    this.#applying = Math.max(this.#applying, index);
    invariant(this.#committed <= this.lastIndex, 'a restored log holds its commit index');
    return keep;
  }

  /**
   * The largest index at or below `index` whose term is at most `term`, with that term. Used on both
   * sides of a rejection to skip a whole mismatching term at once.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let probe = Math.min(index, this.lastIndex);
    for (; probe > this.#snapshotIndex; probe--) {
      const probeTerm = this.term(probe)!;
      if (probeTerm <= term) return { index: probe, term: probeTerm };
    }
    return { index: this.#snapshotIndex, term: this.#snapshotTerm };
  }
}
