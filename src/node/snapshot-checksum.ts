import { crc32c } from '../codec/crc32c.js';
import { RaftError } from '../core/index.js';
import type { StoredSnapshot } from '../storage/log-storage.js';

/**
 * The CRC-32C of a stored snapshot's data, folded in as the data is read from storage, held
 * against the checksum the snapshot was published with. Restoring from a snapshot and sending one
 * to a follower both read through one of these, so data damaged at rest is refused with
 * `CORRUPT_STORAGE` whichever of them reads it first, and neither holds more than a chunk.
 *
 * Bytes count in order from offset 0. A chunk read again (a resend) counts once; a chunk that
 * starts past what was counted (a transfer resumed from a follower's partial copy) is not
 * counted, and whoever needs the verdict reads the gap first.
 */
export class SnapshotChecksum {
  readonly #stored: StoredSnapshot;
  #checkedBytes = 0;
  #checksum = 0;

  constructor(stored: StoredSnapshot) {
    this.#stored = stored;
  }

  /** Bytes from offset 0 folded in so far: the next chunk that counts starts at or before this. */
  get checkedBytes(): number {
    return this.#checkedBytes;
  }

  /** Folds in what `chunk`, read at `offset`, adds; returns whether it added anything. */
  add(offset: number, chunk: Uint8Array): boolean {
    const end = offset + chunk.byteLength;
    if (offset > this.#checkedBytes || end <= this.#checkedBytes) return false;
    this.#checksum = crc32c(chunk.subarray(this.#checkedBytes - offset), this.#checksum);
    this.#checkedBytes = end;
    return true;
  }

  /**
   * Throws `CORRUPT_STORAGE` unless the data read matches the checksum it was published with.
   * Called once every byte was folded in; earlier is a bug in the caller.
   */
  verify(): void {
    const { meta, bytes, checksum } = this.#stored;
    if (this.#checkedBytes < bytes) {
      throw new RaftError(
        'INVARIANT',
        `snapshot ${meta.index} checked at ${this.#checkedBytes} of ${bytes} bytes`,
      );
    }
    if (this.#checkedBytes === bytes && this.#checksum === checksum) return;
    throw new RaftError(
      'CORRUPT_STORAGE',
      `snapshot ${meta.index} reads back as ${this.#checkedBytes} bytes with checksum ${this.#checksum}, not the ${bytes} bytes with checksum ${checksum} it was stored with: its data was damaged after it was written`,
      { details: { snapshotIndex: meta.index, checksum } },
    );
  }
}
