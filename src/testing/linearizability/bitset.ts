import { invariant } from '../../core/errors.js';

const wordBits = 32;

/**
 * A fixed-size set of small integers: the operations linearized so far. Its {@link Bitset.key}
 * is a short string, because the search remembers millions of sets and strings are the most
 * compact map key the runtime offers.
 */
export class Bitset {
  readonly #words: Uint32Array;
  readonly #size: number;

  constructor(size: number) {
    invariant(Number.isInteger(size) && size >= 0, 'bitset size is a non-negative integer');
    this.#size = size;
    this.#words = new Uint32Array(Math.ceil(size / wordBits));
  }

  /** Whether `index` is a member. */
  has(index: number): boolean {
    this.#assertInRange(index);
    return ((this.#words[index >>> 5]! >>> (index & 31)) & 1) === 1;
  }

  /** Makes `index` a member. */
  add(index: number): void {
    this.#assertInRange(index);
    this.#words[index >>> 5]! |= 1 << (index & 31);
  }

  /** Removes `index` from the members. */
  delete(index: number): void {
    this.#assertInRange(index);
    this.#words[index >>> 5]! &= ~(1 << (index & 31));
  }

  /** A string that is equal exactly for equal sets: each 16 bits become one character. */
  key(): string {
    let key = '';
    for (const word of this.#words) {
      key += String.fromCharCode(word & 0xffff, word >>> 16);
    }
    return key;
  }

  #assertInRange(index: number): void {
    invariant(Number.isInteger(index), 'bitset index is an integer');
    invariant(index >= 0 && index < this.#size, 'bitset index is within the size');
  }
}
