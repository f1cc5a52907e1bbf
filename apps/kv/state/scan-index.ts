/**
 * The keys of the store grouped into hash buckets, so SCAN can walk them with a cursor that stays
 * valid while keys come and go and the table grows or shrinks between calls: every key present for
 * the whole walk is returned at least once, and each call does bounded work.
 *
 * The cursor visits bucket numbers in reverse-binary order (the order Redis uses), which is what
 * makes it survive resizing: after the table doubles, the buckets already visited are exactly
 * those whose low bits were visited before.
 */

/** Buckets of the smallest table; it never shrinks below this. */
const bucketsMin = 16;
/** The table doubles when keys exceed this many per bucket on average. */
const loadFactorMax = 2;
/** The table halves when keys fall below one per this many buckets. */
const shrinkRatio = 8;

/** One SCAN step: the keys it found and the cursor to pass next (0 when the walk is complete). */
export interface ScanStep {
  readonly keys: readonly string[];
  readonly cursor: number;
}

export class ScanIndex {
  #buckets: Set<string>[] = freshBuckets(bucketsMin);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds a key that is not in the index. */
  add(key: string): void {
    this.#bucketOf(key).add(key);
    this.#size++;
    if (this.#size > this.#buckets.length * loadFactorMax) this.#resize(this.#buckets.length * 2);
  }

  delete(key: string): void {
    if (!this.#bucketOf(key).delete(key)) return;
    this.#size--;
    const length = this.#buckets.length;
    if (length > bucketsMin && this.#size * shrinkRatio < length) this.#resize(length / 2);
  }

  clear(): void {
    this.#buckets = freshBuckets(bucketsMin);
    this.#size = 0;
  }

  /**
   * Visits buckets from `cursor` until at least `count` keys are found or `bucketsMax` buckets were
   * visited, whichever comes first. Empty buckets count, so a sparse table cannot make one call
   * walk it all.
   */
  scan(cursor: number, count: number, bucketsMax: number): ScanStep {
    const mask = this.#buckets.length - 1;
    const keys: string[] = [];
    let position = cursor >>> 0;
    let visited = 0;
    do {
      for (const key of this.#buckets[position & mask]!) keys.push(key);
      visited++;
      // Increment the reversed cursor: set the bits above the mask, reverse, add one, reverse.
      position = reverseBits((reverseBits((position | ~mask) >>> 0) + 1) >>> 0);
    } while (position !== 0 && keys.length < count && visited < bucketsMax);
    return { keys, cursor: position };
  }

  #bucketOf(key: string): Set<string> {
    return this.#buckets[hashKey(key) & (this.#buckets.length - 1)]!;
  }

  #resize(length: number): void {
    const old = this.#buckets;
    this.#buckets = freshBuckets(length);
    for (const bucket of old) for (const key of bucket) this.#bucketOf(key).add(key);
  }
}

function freshBuckets(length: number): Set<string>[] {
  return Array.from({ length }, () => new Set<string>());
}

/** FNV-1a over the key's latin1 characters (one per byte). */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let position = 0; position < key.length; position++) {
    hash ^= key.charCodeAt(position);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function reverseBits(value: number): number {
  let result = 0;
  let rest = value >>> 0;
  for (let bit = 0; bit < 32; bit++) {
    result = ((result << 1) | (rest & 1)) >>> 0;
    rest >>>= 1;
  }
  return result;
}
