import {
  RaftError,
  type InstallSnapshotResponse,
  type NodeId,
  type SnapshotMeta,
  type SnapshotTransfer,
} from '../core/index.js';
import type { StoredSnapshot } from '../storage/log-storage.js';
import type { SnapshotOptions } from './node-options.js';
import { SnapshotChecksum } from './snapshot-checksum.js';

/** What a sender needs from its node. */
export interface SnapshotSenderHost {
  readonly id: NodeId;
  readonly options: SnapshotOptions;
  now(): number;
  /** The leader's current term, or null when this server no longer leads. */
  leaderTerm(): number | null;
  /** Whether the core still wants snapshot `index` sent to `to`. */
  wanted(to: NodeId, index: number): boolean;
  /** Whether `to` has acknowledged holding everything up to `index` (it installed the snapshot). */
  holds(to: NodeId, index: number): boolean;
  /** Tells the core the transfer failed; the follower will be probed and a new one started. */
  failed(to: NodeId, index: number): void;
  /** Tells the core that storage holds a snapshot newer than the one it asked to send. */
  available(snapshot: SnapshotMeta): void;
  latest(): Promise<StoredSnapshot | null>;
  read(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null>;
  send(message: {
    to: NodeId;
    term: number;
    snapshot: SnapshotMeta;
    offset: number;
    data: Uint8Array;
    totalBytes: number;
    checksum: number;
  }): void;
  /** The follower acknowledged every byte. */
  sent(to: NodeId, stored: StoredSnapshot, durationMs: number): void;
}

/** One follower's transfer: a window of chunks past the last acknowledged offset. */
interface Transfer {
  readonly to: NodeId;
  readonly stored: StoredSnapshot;
  readonly startedAt: number;
  /** Bytes the follower confirmed holding, in order from 0. */
  acknowledged: number;
  /** Where the next chunk starts. */
  nextOffset: number;
  lastProgressAt: number;
  timeouts: number;
  pumping: boolean;
  reported: boolean;
  /** The data read so far, checked against the stored checksum before the last chunk goes. */
  checksum: SnapshotChecksum;
}

/**
 * The leader's side of InstallSnapshot. Each follower that needs a snapshot gets its own transfer,
 * sent in chunks of `chunkBytes` with at most `chunksInflightMax` unacknowledged, read from
 * storage on demand so a snapshot of any size costs a bounded buffer. Acknowledgements are
 * cumulative: a follower that already holds a prefix (an interrupted transfer, even from another
 * leader) answers the first chunk with its length and the transfer jumps there. Without progress
 * for `chunkTimeoutMs` the unacknowledged chunks go again; after `timeoutsMax` timeouts the
 * transfer is given up. Chunks are ordinary messages, so heartbeats and other followers'
 * replication never wait behind them.
 *
 * The leader checks its own copy as it reads it: every byte goes into a CRC-32C, and the last
 * chunk goes out only once that matches the checksum the snapshot was stored with. A mismatch
 * rejects with `CORRUPT_STORAGE`, which fails the node like any storage failure: a follower would
 * refuse the damaged copy by its checksum and ask again, forever, while a server with intact
 * state could lead.
 */
export class SnapshotSender {
  readonly #host: SnapshotSenderHost;
  readonly #transfers = new Map<NodeId, Transfer>();

  constructor(host: SnapshotSenderHost) {
    this.#host = host;
  }

  /** Followers with a transfer under way. */
  get activeCount(): number {
    return this.#transfers.size;
  }

  /** Starts the transfers a Ready asked for. */
  async start(transfer: SnapshotTransfer): Promise<void> {
    const host = this.#host;
    const stored = await host.latest();
    if (stored === null || stored.meta.index !== transfer.snapshot.index) {
      // The data was replaced meanwhile: the next probe asks for the newer snapshot. The core must
      // know of it first, or it asks again for the one storage no longer holds, at once and
      // forever (each answer arrives in a microtask, so nothing else would ever run).
      if (stored !== null && stored.meta.index > transfer.snapshot.index) {
        host.available(stored.meta);
      }
      host.failed(transfer.to, transfer.snapshot.index);
      return;
    }
    const now = host.now();
    const entry: Transfer = {
      to: transfer.to,
      stored,
      startedAt: now,
      acknowledged: 0,
      nextOffset: 0,
      lastProgressAt: now,
      timeouts: 0,
      pumping: false,
      reported: false,
      checksum: new SnapshotChecksum(stored),
    };
    this.#transfers.set(transfer.to, entry);
    await this.#pump(entry);
  }

  /** Handles a chunk acknowledgement the core passed on. */
  async onResponse(message: InstallSnapshotResponse): Promise<void> {
    const transfer = this.#transfers.get(message.from);
    if (transfer === undefined || transfer.stored.meta.index !== message.snapshotIndex) return;
    if (!this.#stillWanted(transfer)) return;
    if (!message.success || message.bytesReceived < transfer.acknowledged) {
      // Refused as a whole (checksum) or the follower lost its partial copy: start over. After a
      // refusal the bytes are checked again as they are read, in case storage hands out others.
      transfer.acknowledged = 0;
      transfer.nextOffset = 0;
      if (!message.success) transfer.checksum = new SnapshotChecksum(transfer.stored);
    } else {
      if (message.bytesReceived > transfer.acknowledged) {
        transfer.acknowledged = message.bytesReceived;
        transfer.lastProgressAt = this.#host.now();
        transfer.timeouts = 0;
      }
      transfer.nextOffset = Math.max(transfer.nextOffset, transfer.acknowledged);
    }
    if (transfer.acknowledged === transfer.stored.bytes && !transfer.reported) {
      transfer.reported = true;
      this.#host.sent(transfer.to, transfer.stored, this.#host.now() - transfer.startedAt);
    }
    await this.#pump(transfer);
  }

  /** Called every tick: retransmits stalled transfers and gives up on dead ones. */
  async onTick(): Promise<void> {
    const now = this.#host.now();
    const { chunkTimeoutMs, timeoutsMax } = this.#host.options;
    for (const transfer of [...this.#transfers.values()]) {
      if (!this.#stillWanted(transfer)) continue;
      if (now - transfer.lastProgressAt < chunkTimeoutMs) continue;
      transfer.lastProgressAt = now;
      if (++transfer.timeouts > timeoutsMax) {
        this.#transfers.delete(transfer.to);
        this.#host.failed(transfer.to, transfer.stored.meta.index);
        continue;
      }
      // Go back to what is known received; when everything is, one chunk asks where it stands.
      transfer.nextOffset =
        transfer.acknowledged === transfer.stored.bytes ? 0 : transfer.acknowledged;
      await this.#pump(transfer, transfer.acknowledged === transfer.stored.bytes);
    }
  }

  /** Drops every transfer (this server no longer leads). */
  clear(): void {
    this.#transfers.clear();
  }

  #stillWanted(transfer: Transfer): boolean {
    const { to, stored } = transfer;
    if (this.#host.wanted(to, stored.meta.index)) return true;
    this.#transfers.delete(to);
    // The follower's answer to the installed snapshot can reach the core in the same turn as the
    // last chunks' acknowledgements, and be handled first: the transfer did complete.
    if (!transfer.reported && this.#host.holds(to, stored.meta.index)) {
      transfer.reported = true;
      this.#host.sent(to, stored, this.#host.now() - transfer.startedAt);
    }
    return false;
  }

  /** Sends chunks until the window is full. Only one pump runs per transfer at a time. */
  async #pump(transfer: Transfer, probe = false): Promise<void> {
    if (transfer.pumping) return;
    transfer.pumping = true;
    try {
      const { chunkBytes, chunksInflightMax } = this.#host.options;
      const windowEnd = () => transfer.acknowledged + chunkBytes * chunksInflightMax;
      let first = true;
      while (
        (first && (probe || transfer.stored.bytes === 0 || transfer.nextOffset === 0)) ||
        (transfer.nextOffset < transfer.stored.bytes && transfer.nextOffset < windowEnd())
      ) {
        first = false;
        const term = this.#host.leaderTerm();
        if (term === null || !this.#stillWanted(transfer)) return;
        const offset = transfer.nextOffset;
        const { meta, bytes, checksum } = transfer.stored;
        const data = await this.#readChecked(transfer, offset);
        if (data === null) {
          this.#transfers.delete(transfer.to);
          this.#host.failed(transfer.to, meta.index);
          return;
        }
        this.#host.send({
          to: transfer.to,
          term,
          snapshot: meta,
          offset,
          data,
          totalBytes: bytes,
          checksum,
        });
        transfer.nextOffset = Math.max(transfer.nextOffset, offset + data.byteLength);
        if (probe) return;
      }
    } finally {
      transfer.pumping = false;
    }
  }

  /**
   * Reads the chunk at `offset` and checks it (see {@link SnapshotSender.#checked}): null once
   * storage no longer holds the snapshot. Throws when storage does not hold what it published.
   */
  async #readChecked(transfer: Transfer, offset: number): Promise<Uint8Array | null> {
    try {
      const data = await this.#read(transfer, offset, this.#host.options.chunkBytes);
      if (data === null) return null;
      return (await this.#checked(transfer, offset, data)) ? data : null;
    } catch (error) {
      // The node fails with this error; until it has stopped, nothing more is read or sent.
      this.#transfers.delete(transfer.to);
      throw error;
    }
  }

  /**
   * Reads a chunk of the transfer's snapshot: null once storage no longer holds it (replaced by a
   * newer one). An empty chunk before the end means the stored data is shorter than its size
   * says; reading on would ask for the same offset forever.
   */
  async #read(transfer: Transfer, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    const { meta, bytes } = transfer.stored;
    const data = await this.#host.read(meta.index, offset, bytesMax);
    if (data === null || data.byteLength > 0 || offset >= bytes) return data;
    throw new RaftError(
      'CORRUPT_STORAGE',
      `snapshot ${meta.index} ends at ${offset} of the ${bytes} bytes it was stored with`,
      { details: { snapshotIndex: meta.index, offset } },
    );
  }

  /**
   * Folds a chunk just read into the transfer's checksum. Before the last chunk goes out every
   * byte must have been checked: the ones a resumed transfer skipped (the follower held them) are
   * read here, a chunk at a time. A mismatch throws `CORRUPT_STORAGE`, so the follower never gets
   * the end of damaged data, and the node stops: a server whose own state is damaged must not
   * lead. Returns false when the snapshot was replaced meanwhile.
   */
  async #checked(transfer: Transfer, offset: number, data: Uint8Array): Promise<boolean> {
    const { checksum, stored } = transfer;
    checksum.add(offset, data);
    if (offset + data.byteLength < stored.bytes) return true;
    while (checksum.checkedBytes < offset) {
      const from = checksum.checkedBytes;
      const skipped = await this.#read(
        transfer,
        from,
        Math.min(this.#host.options.chunkBytes, offset - from),
      );
      if (skipped === null) return false;
      checksum.add(from, skipped);
    }
    checksum.add(offset, data);
    checksum.verify();
    return true;
  }
}
