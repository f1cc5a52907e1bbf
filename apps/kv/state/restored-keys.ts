import { holdsText } from './arguments.js';

/**
 * The keys of a restored keyspace image, indexed where they lie in it: an open-addressing table of
 * offsets into the image, hashed from the key's bytes. A restart then builds no string, object or
 * map entry per key: on a hundred thousand keys those were most of a restore, and three servers
 * restarting together paid for them just as the first write arrived and waited.
 *
 * A key leaves the index the first time the keyspace uses it (it is decoded into the keyspace's
 * own map) and never comes back, so the index only ever shrinks.
 */
export class RestoredKeys {
  readonly #bytes: Buffer;
  readonly #mask: number;
  /**
   * Per table slot: the image offset of a key's length field, plus one (an image is at most
   * 4 GiB, a Buffer's limit); 0 is an empty slot.
   */
  readonly #slots: Uint32Array;
  /** Per table slot: 1 once its key has left; the slot stays, so probes still pass over it. */
  readonly #gone: Uint8Array;
  #size = 0;

  /** `keysMax`: how many keys {@link add} will be given at most (the image's key count). */
  constructor(bytes: Buffer, keysMax: number) {
    let capacity = 8;
    // At most two thirds full, so a probe meets an empty slot within a few slots. Fuller than
    // half: the table is written at random, and on 300k keys halving it made the restore's
    // inserts about a fifth quicker (fewer cache and TLB misses) for slightly longer probes.
    while (capacity < keysMax * 1.5) capacity *= 2;
    this.#bytes = bytes;
    this.#mask = capacity - 1;
    this.#slots = new Uint32Array(capacity);
    this.#gone = new Uint8Array(capacity);
  }

  /** Keys still here. */
  get size(): number {
    return this.#size;
  }

  /** Adds the key whose length field lies at `keyAt`; the image holds each key once. */
  add(keyAt: number): void {
    const bytes = this.#bytes;
    const length = bytes.readUInt32LE(keyAt);
    let hash = 0x811c9dc5;
    for (let at = keyAt + 4, end = at + length; at < end; at++) {
      hash = Math.imul(hash ^ bytes[at]!, 0x01000193);
    }
    let slot = spread(hash) & this.#mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & this.#mask;
    this.#slots[slot] = keyAt + 1;
    this.#size++;
  }

  /**
   * Removes `key` (latin1, as the image holds it) and returns where its record starts, just past
   * its name; -1 when it is not here.
   */
  take(key: string): number {
    const bytes = this.#bytes;
    let hash = 0x811c9dc5;
    for (let index = 0; index < key.length; index++) {
      hash = Math.imul(hash ^ (key.charCodeAt(index) & 0xff), 0x01000193);
    }
    for (let slot = spread(hash) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const keyAt = this.#slots[slot]! - 1;
      if (keyAt < 0) return -1;
      if (this.#gone[slot] === 1 || bytes.readUInt32LE(keyAt) !== key.length) continue;
      if (!holdsText(bytes, keyAt + 4, key)) continue;
      this.#gone[slot] = 1;
      this.#size--;
      return keyAt + 4 + key.length;
    }
  }

  /** The keys still here, each with where its record starts, in no particular order. */
  *entries(): Generator<[key: string, record: number]> {
    const bytes = this.#bytes;
    for (let slot = 0; slot <= this.#mask; slot++) {
      const keyAt = this.#slots[slot]! - 1;
      if (keyAt < 0 || this.#gone[slot] === 1) continue;
      const start = keyAt + 4;
      const end = start + bytes.readUInt32LE(keyAt);
      yield [bytes.toString('latin1', start, end), end];
    }
  }
}

/**
 * Brings the high bits of an FNV-1a hash down into the low ones the table uses: on its own, its
 * low bits depend only on the low bits of each byte, and keys such as `key:000000012345` that
 * differ in a few digits crowded into runs of slots that every probe then walked.
 */
function spread(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  return mixed ^ (mixed >>> 16);
}
