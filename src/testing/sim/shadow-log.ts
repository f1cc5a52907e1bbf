import type { Entry } from '../../core/types.js';

/**
 * The log a node's storage holds, kept beside it in plain arrays so that checkers can read it
 * synchronously after every step. It follows the calls the node made (the visible state, which
 * includes writes not yet synced), and is rebuilt from the storage a restarted node finds.
 */
export class ShadowLog {
  #snapshotIndex = 0;
  #snapshotTerm = 0;
  /** `entries[i]` has index `snapshotIndex + 1 + i`. */
  #entries: Entry[] = [];

  /** The last index held, or the snapshot index when the log is empty. */
  get lastIndex(): number {
    return this.#snapshotIndex + this.#entries.length;
  }

  /** The term of the last entry held (or of the snapshot). */
  get lastTerm(): number {
    return this.#entries.at(-1)?.term ?? this.#snapshotTerm;
  }

  /** The index before the first entry held. */
  get snapshotIndex(): number {
    return this.#snapshotIndex;
  }

  /** The entry at `index`, if held. */
  entry(index: number): Entry | undefined {
    if (index <= this.#snapshotIndex) return undefined;
    return this.#entries[index - this.#snapshotIndex - 1];
  }

  /** The term at `index`: the snapshot's term at its own index, `undefined` when unknown. */
  termAt(index: number): number | undefined {
    if (index === this.#snapshotIndex) return this.#snapshotTerm;
    return this.entry(index)?.term;
  }

  /** Appends consecutive entries, first replacing any suffix from the first one's index on. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    this.#entries.length = Math.max(0, first.index - this.#snapshotIndex - 1);
    this.#entries.push(...entries);
  }

  /** Forgets entries up to `index`, as a compaction does. */
  compact(index: number, term: number): void {
    const offset = index - this.#snapshotIndex;
    this.#entries = offset <= this.#entries.length ? this.#entries.slice(Math.max(0, offset)) : [];
    this.#snapshotIndex = index;
    this.#snapshotTerm = term;
  }

  /** Replaces the whole content, after a restart. */
  reset(snapshotIndex: number, snapshotTerm: number, entries: readonly Entry[]): void {
    this.#snapshotIndex = snapshotIndex;
    this.#snapshotTerm = snapshotTerm;
    this.#entries = [...entries];
  }
}
