import { CommandError, wrongTypeMessage } from './arguments.js';
import type { RestoredKeys } from './restored-keys.js';
import { DeadlineHeap } from './deadline-heap.js';
import { ScanIndex, type ScanStep } from './scan-index.js';

/**
 * A stored value. Plain data (bytes, maps and sets of latin1 strings) so the whole keyspace
 * serializes into a snapshot and back without any hidden state.
 */
export type KvValue =
  | { readonly type: 'string'; readonly value: Buffer }
  | { readonly type: 'hash'; readonly fields: Map<string, Buffer> }
  | { readonly type: 'set'; readonly members: Set<string> };

/** The type names of TYPE and SCAN … TYPE. */
export type KvValueType = KvValue['type'];

/** One key's record. */
export interface KvEntry {
  value: KvValue;
  /** Replicated time at which the key disappears, or null. */
  expiresAtMs: number | null;
  /** The log index of the entry that last wrote this key: what WATCH compares. */
  modifiedIndex: number;
}

/**
 * Everything a {@link Keyspace} holds, as plain data: what a snapshot must carry so that a server
 * restored from it reaches the same expiry and WATCH verdicts as one that applied the whole log.
 * The SCAN index and the expiry heap are derived and rebuilt on restore.
 */
export interface KeyspaceImage {
  readonly timeMs: number;
  readonly index: number;
  /**
   * Keys (latin1) with their records. {@link Keyspace.image} shares the live values: serialize
   * the image before applying another entry. {@link Keyspace.restore} copies them.
   */
  readonly entries: readonly (readonly [string, KvEntry])[];
  /** Remembered deletions, oldest first: key → deleting index. */
  readonly tombstones: readonly (readonly [string, number])[];
  readonly tombstoneFloorIndex: number;
}

/**
 * Where a restore's keys wait, undecoded, until first used: an index of them in the image, and
 * the image's records.
 */
export interface RestoredRecords {
  readonly keys: RestoredKeys;
  /** Decodes the record that starts at an offset {@link RestoredKeys.take} returned. */
  entryAt(record: number): KvEntry;
  /** The expiry of such a record, read without decoding it. */
  expiresAt(record: number): number | null;
}

/** Stale heap entries tolerated, beyond the live deadlines, before the heap is rebuilt. */
const staleDeadlinesMax = 4096;
/** Deleted keys whose deletion index is remembered for WATCH; older ones fold into a floor. */
export const tombstonesMax = 10_000;

/**
 * Every key of the store with its value, expiry and last-modified log index, plus the replicated
 * clock. Only the apply path changes it, one log entry at a time ({@link beginEntry}), so every
 * server holds the same keyspace after the same entry — including which keys expired and when
 * each key was last written.
 */
export class Keyspace {
  readonly #entries = new Map<string, KvEntry>();
  /** Keys of a restored image not used yet; each moves into `#entries` on first use. */
  #restored: RestoredRecords | null = null;
  readonly #heap = new DeadlineHeap();
  /**
   * Built on the first SCAN and kept up to date from then on: a server nobody SCANs does not pay
   * for it on every new key. Cursors still carry between servers, since every server hashes keys
   * alike and the walk order survives any table size.
   */
  #scanIndex: ScanIndex | null = null;
  /**
   * Deleted keys → the index that deleted them, oldest first. A key absent from here and from the
   * store was deleted at or before `#tombstoneFloorIndex`, or never existed.
   */
  readonly #tombstones = new Map<string, number>();
  #tombstoneFloorIndex = 0;
  #expiringKeys = 0;
  #timeMs = 0;
  #index = 0;

  /** The replicated time: the greatest proposer clock applied so far, in ms since the epoch. */
  get timeMs(): number {
    return this.#timeMs;
  }

  /** The index of the last log entry applied. */
  get index(): number {
    return this.#index;
  }

  get size(): number {
    return this.#entries.size + (this.#restored?.keys.size ?? 0);
  }

  /** Live keys that carry an expiry. */
  get expiringKeys(): number {
    return this.#expiringKeys;
  }

  /**
   * Starts applying the entry at `index`: moves replicated time forward to `timeMs` (never back)
   * and deletes the keys whose expiry that reaches, as modifications by this entry.
   */
  beginEntry(index: number, timeMs: number): void {
    if (index > this.#index) this.#index = index;
    if (timeMs <= this.#timeMs) return;
    this.#timeMs = timeMs;
    for (;;) {
      const next = this.#heap.peek();
      if (next === undefined || next.atMs > this.#timeMs) break;
      this.#heap.pop();
      if (this.#lookup(next.key)?.expiresAtMs === next.atMs) this.delete(next.key);
    }
  }

  get(key: string): KvEntry | undefined {
    return this.#lookup(key);
  }

  /** The record of `key`, moved out of the restored image first if it is still there. */
  #lookup(key: string): KvEntry | undefined {
    const entry = this.#entries.get(key);
    const restored = this.#restored;
    // An emptied index is not probed, but stays: a restore still loading adds keys to it.
    if (entry !== undefined || restored === null || restored.keys.size === 0) return entry;
    const record = restored.keys.take(key);
    if (record < 0) return undefined;
    const decoded = restored.entryAt(record);
    this.#entries.set(key, decoded);
    return decoded;
  }

  /** The value of `key` if it holds `type`; undefined when absent; WRONGTYPE otherwise. */
  read<T extends KvValueType>(key: string, type: T): Extract<KvValue, { type: T }> | undefined {
    const value = this.#lookup(key)?.value;
    if (value === undefined) return undefined;
    if (value.type !== type) throw new CommandError(wrongTypeMessage);
    return value as Extract<KvValue, { type: T }>;
  }

  /**
   * The value of `key` for changing in place, created empty when absent; WRONGTYPE otherwise.
   * The key counts as modified by the current entry.
   */
  update<T extends 'hash' | 'set'>(key: string, type: T): Extract<KvValue, { type: T }> {
    const entry = this.#lookup(key);
    if (entry === undefined) {
      const value = (
        type === 'hash' ? { type, fields: new Map() } : { type, members: new Set() }
      ) as Extract<KvValue, { type: T }>;
      this.put(key, value, null);
      return value;
    }
    if (entry.value.type !== type) throw new CommandError(wrongTypeMessage);
    entry.modifiedIndex = this.#index;
    return entry.value as Extract<KvValue, { type: T }>;
  }

  /** Stores `value` at `key`; `keep` keeps an existing expiry (KEEPTTL, INCR, APPEND). */
  put(key: string, value: KvValue, expiresAtMs: number | null | 'keep'): void {
    const existing = this.#lookup(key);
    const deadline = expiresAtMs === 'keep' ? (existing?.expiresAtMs ?? null) : expiresAtMs;
    if (existing !== undefined) {
      existing.value = value;
      existing.modifiedIndex = this.#index;
      this.#changeExpiry(key, existing, deadline);
      return;
    }
    const entry: KvEntry = { value, expiresAtMs: null, modifiedIndex: this.#index };
    this.#entries.set(key, entry);
    this.#scanIndex?.add(key);
    if (this.#tombstones.size > 0) this.#tombstones.delete(key);
    if (deadline !== null) this.#changeExpiry(key, entry, deadline);
  }

  /** Sets or clears an existing key's expiry; a moment already reached deletes the key. */
  setExpiry(key: string, expiresAtMs: number | null): void {
    const entry = this.#lookup(key);
    if (entry !== undefined) this.#changeExpiry(key, entry, expiresAtMs);
  }

  #changeExpiry(key: string, entry: KvEntry, expiresAtMs: number | null): void {
    if (expiresAtMs !== null && expiresAtMs <= this.#timeMs) {
      this.delete(key);
      return;
    }
    if (entry.expiresAtMs === expiresAtMs) return;
    if (entry.expiresAtMs === null) this.#expiringKeys++;
    if (expiresAtMs === null) this.#expiringKeys--;
    entry.expiresAtMs = expiresAtMs;
    entry.modifiedIndex = this.#index;
    if (expiresAtMs === null) return;
    this.#heap.push({ key, atMs: expiresAtMs });
    if (this.#heap.size > this.#expiringKeys + staleDeadlinesMax) this.#rebuildHeap();
  }

  /** Deletes `key`; whether it existed. */
  delete(key: string): boolean {
    const entry = this.#lookup(key);
    if (entry === undefined) return false;
    if (entry.expiresAtMs !== null) this.#expiringKeys--;
    this.#entries.delete(key);
    this.#scanIndex?.delete(key);
    this.#tombstones.set(key, this.#index);
    if (this.#tombstones.size > tombstonesMax) {
      const [oldestKey, oldestIndex] = this.#tombstones.entries().next().value!;
      this.#tombstones.delete(oldestKey);
      this.#tombstoneFloorIndex = Math.max(this.#tombstoneFloorIndex, oldestIndex);
    }
    return true;
  }

  /** FLUSHALL: every key goes, and counts as modified by the current entry. */
  clear(): void {
    this.#entries.clear();
    this.#restored = null;
    this.#scanIndex = null;
    this.#tombstones.clear();
    this.#heap.rebuild([]);
    this.#expiringKeys = 0;
    this.#tombstoneFloorIndex = this.#index;
  }

  /**
   * Whether `key` was written, deleted or expired by an entry after `index`. When that cannot be
   * told any more (the deletion was forgotten), it answers yes: a transaction aborts needlessly
   * rather than running against a changed key.
   */
  modifiedAfter(key: string, index: number): boolean {
    const entry = this.#lookup(key);
    if (entry !== undefined) return entry.modifiedIndex > index;
    return (this.#tombstones.get(key) ?? this.#tombstoneFloorIndex) > index;
  }

  *keys(): Generator<string> {
    yield* this.#entries.keys();
    if (this.#restored === null) return;
    for (const [key] of this.#restored.keys.entries()) yield key;
  }

  /** One bounded step of a SCAN walk; see {@link ScanIndex.scan}. */
  scan(cursor: number, count: number, bucketsMax: number): ScanStep {
    if (this.#scanIndex === null) {
      this.#scanIndex = new ScanIndex();
      for (const key of this.keys()) this.#scanIndex.add(key);
    }
    return this.#scanIndex.scan(cursor, count, bucketsMax);
  }

  /** The whole state as plain data (see {@link KeyspaceImage}). */
  image(): KeyspaceImage {
    return {
      timeMs: this.#timeMs,
      index: this.#index,
      entries: [...this.#entries, ...this.#restoredEntries()],
      tombstones: [...this.#tombstones],
      tombstoneFloorIndex: this.#tombstoneFloorIndex,
    };
  }

  /**
   * Replaces the whole state with `image`, rebuilding the derived indexes. The values are copied
   * unless `adopt` says the image was made for this keyspace alone (decoded from a snapshot):
   * on a restart with a hundred thousand keys, the copies were half of the restore's time.
   */
  restore(image: KeyspaceImage, options: { adopt?: boolean } = {}): void {
    this.beginRestore(image);
    this.restoreEntries(image.entries, options.adopt === true);
    this.endRestore(image.tombstones);
  }

  /**
   * First step of a restore done piecewise ({@link restore} does all three): empties the
   * keyspace and takes the image's clock, index and tombstone floor. Until {@link endRestore},
   * the keyspace holds only the entries added so far and must not be read.
   */
  beginRestore(
    header: Pick<KeyspaceImage, 'timeMs' | 'index' | 'tombstoneFloorIndex'>,
    restored: RestoredRecords | null = null,
  ): void {
    this.clear();
    this.#restored = restored;
    this.#timeMs = header.timeMs;
    this.#index = header.index;
    this.#tombstoneFloorIndex = header.tombstoneFloorIndex;
  }

  /** Adds records of the image being restored; `adopt` takes the values over without a copy. */
  restoreEntries(entries: KeyspaceImage['entries'], adopt: boolean): void {
    for (const [key, entry] of entries) {
      const kept = adopt ? entry : { ...entry, value: copyValue(entry.value) };
      this.restoreEntry(key, kept);
    }
  }

  /** Adds one record of the image being restored, taking it over as it is. */
  restoreEntry(key: string, entry: KvEntry): void {
    this.#entries.set(key, entry);
    if (entry.expiresAtMs !== null) this.#expiringKeys++;
  }

  /**
   * Adds the key whose length field lies at `keyAt` in the image given to {@link beginRestore},
   * left undecoded until first used.
   */
  restoreKey(keyAt: number, expiresAtMs: number | null): void {
    this.#restored!.keys.add(keyAt);
    if (expiresAtMs !== null) this.#expiringKeys++;
  }

  /** Last step of a piecewise restore: the remembered deletions, then the expiry heap. */
  endRestore(tombstones: KeyspaceImage['tombstones']): void {
    for (const [key, index] of tombstones) this.#tombstones.set(key, index);
    this.#rebuildHeap();
  }

  /** The keys still in the restored image, decoded, leaving them there. */
  *#restoredEntries(): Generator<readonly [string, KvEntry]> {
    if (this.#restored === null) return;
    for (const [key, record] of this.#restored.keys.entries()) {
      yield [key, this.#restored.entryAt(record)];
    }
  }

  #rebuildHeap(): void {
    // Most keyspaces carry no expiry at all: a restore of one need not walk its keys for none.
    if (this.#expiringKeys === 0) {
      this.#heap.rebuild([]);
      return;
    }
    const deadlines = [];
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAtMs !== null) deadlines.push({ key, atMs: entry.expiresAtMs });
    }
    if (this.#restored !== null) {
      for (const [key, record] of this.#restored.keys.entries()) {
        const atMs = this.#restored.expiresAt(record);
        if (atMs !== null) deadlines.push({ key, atMs });
      }
    }
    this.#heap.rebuild(deadlines);
  }
}

function copyValue(value: KvValue): KvValue {
  switch (value.type) {
    case 'string':
      return { type: 'string', value: Buffer.from(value.value) };
    case 'hash':
      return { type: 'hash', fields: new Map(value.fields) };
    case 'set':
      return { type: 'set', members: new Set(value.members) };
  }
}
