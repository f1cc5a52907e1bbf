import type { Keyspace } from './keyspace.js';
import type { KeyspaceImageDecoder } from './keyspace-codec.js';

/**
 * Keys decoded per turn of the event loop while a restore runs in the background: a few
 * milliseconds of work, so heartbeats, votes and client connections are served in between.
 */
export const restoreSliceKeys = 2048;

/**
 * Fills a keyspace from a checked binary image, a slice of keys per turn of the event loop. A
 * server restarting on a snapshot of a hundred thousand keys then joins the election and accepts
 * connections while its keys load, instead of after. Whatever reads or writes the keyspace calls
 * {@link finish} first, which loads the rest at once: nobody sees the keyspace half-restored.
 */
export class KeyspaceRestore {
  readonly #keyspace: Keyspace;
  readonly #decoder: KeyspaceImageDecoder;
  #state: 'loading' | 'done' | 'abandoned' = 'loading';
  readonly #restoreKey: (keyAt: number, expiresAtMs: number | null) => void;

  /** `loadAfter`: loading in the background begins once it resolves (at once by default). */
  constructor(
    keyspace: Keyspace,
    decoder: KeyspaceImageDecoder,
    loadAfter: Promise<void> = Promise.resolve(),
  ) {
    this.#keyspace = keyspace;
    this.#decoder = decoder;
    this.#restoreKey = (keyAt, expiresAtMs) => keyspace.restoreKey(keyAt, expiresAtMs);
    keyspace.beginRestore(decoder, decoder);
    const begin = (): void => this.#scheduleSlice();
    void loadAfter.then(begin, begin);
  }

  /** Whether the keyspace holds the whole image (or this restore was abandoned). */
  get loading(): boolean {
    return this.#state === 'loading';
  }

  /** The keys the keyspace holds once restored. */
  get size(): number {
    return this.#decoder.entryCount;
  }

  /** The keys with an expiry the keyspace holds once restored. */
  get expiringKeys(): number {
    return this.#decoder.expiringCount;
  }

  /** The image's replicated time, which the keyspace takes at once. */
  get timeMs(): number {
    return this.#decoder.timeMs;
  }

  /** Loads every key not loaded yet, now. */
  finish(): void {
    if (this.#state === 'loading') this.#load(this.#decoder.entryCount);
  }

  /** Stops loading: another restore is replacing the keyspace. */
  abandon(): void {
    if (this.#state === 'loading') this.#state = 'abandoned';
  }

  #load(keys: number): void {
    this.#decoder.nextEntries(keys, this.#restoreKey);
    if (!this.#decoder.done) return;
    this.#keyspace.endRestore(this.#decoder.tombstones());
    this.#state = 'done';
  }

  #scheduleSlice(): void {
    setImmediate(() => {
      if (this.#state !== 'loading') return;
      this.#load(restoreSliceKeys);
      if (this.#state === 'loading') this.#scheduleSlice();
    });
  }
}
