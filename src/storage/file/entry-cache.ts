import { entryPayload, type Entry } from '../../core/index.js';

/** Limits of an {@link EntryCache}. */
export interface EntryCacheLimits {
  /** Most entries kept. */
  readonly entriesMax: number;
  /** Most command bytes kept (other entry kinds count as a small fixed size). */
  readonly bytesMax: number;
}

/** What a non-command entry is counted as: small, but not free. */
const fixedEntryBytes = 64;

function entryBytes(entry: Entry): number {
  return (entryPayload(entry)?.length ?? 0) + fixedEntryBytes;
}

/**
 * The most recent entries of the log, a consecutive run ending at the last index, so the reads
 * the runtime makes most (replicating the tail to followers, applying just-committed entries)
 * never touch the disk. Older entries are evicted first when a limit is reached.
 */
export class EntryCache {
  readonly #limits: EntryCacheLimits;
  /** Consecutive entries; `#entries[#start]` is the oldest kept. */
  #entries: Entry[] = [];
  #start = 0;
  #bytes = 0;

  constructor(limits: EntryCacheLimits) {
    this.#limits = limits;
  }

  /** The index of the oldest cached entry, or `null` when the cache is empty. */
  get firstIndex(): number | null {
    return this.#entries[this.#start]?.index ?? null;
  }

  /** Number of cached entries. */
  get size(): number {
    return this.#entries.length - this.#start;
  }

  /**
   * Adds entries that follow the cached run (the caller has already discarded any conflicting
   * suffix with {@link EntryCache.truncateFrom}); a run that does not connect replaces the cache.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const last = this.#entries[this.#entries.length - 1];
    if (last !== undefined && last.index + 1 !== first.index) this.clear();
    for (const entry of entries) {
      this.#entries.push(entry);
      this.#bytes += entryBytes(entry);
    }
    this.#evict();
  }

  /** Entries with `from <= index < to`, or `null` unless the cache holds all of them. */
  slice(from: number, to: number): Entry[] | null {
    const firstIndex = this.firstIndex;
    if (firstIndex === null || from < firstIndex) return null;
    const start = this.#start + (from - firstIndex);
    if (start + (to - from) > this.#entries.length) return null;
    return this.#entries.slice(start, start + (to - from));
  }

  /** Drops cached entries at and after `index`. */
  truncateFrom(index: number): void {
    while (this.size > 0 && this.#entries[this.#entries.length - 1]!.index >= index) {
      this.#bytes -= entryBytes(this.#entries.pop()!);
    }
    if (this.size === 0) this.clear();
  }

  /** Drops cached entries at and before `index`. */
  dropThrough(index: number): void {
    while (this.size > 0 && this.#entries[this.#start]!.index <= index) this.#dropOldest();
    this.#compactStorage();
  }

  clear(): void {
    this.#entries = [];
    this.#start = 0;
    this.#bytes = 0;
  }

  #evict(): void {
    while (
      this.size > 0 &&
      (this.size > this.#limits.entriesMax || this.#bytes > this.#limits.bytesMax)
    ) {
      this.#dropOldest();
    }
    this.#compactStorage();
  }

  #dropOldest(): void {
    const oldest = this.#entries[this.#start]!;
    this.#bytes -= entryBytes(oldest);
    // Unset the slot so the evicted entry can be garbage collected before the array is compacted.
    this.#entries[this.#start] = undefined as unknown as Entry;
    this.#start++;
  }

  /** Moves the live run to the front once the evicted prefix dominates, keeping eviction O(1). */
  #compactStorage(): void {
    if (this.#start > 1024 && this.#start > this.size) {
      this.#entries = this.#entries.slice(this.#start);
      this.#start = 0;
    }
  }
}
