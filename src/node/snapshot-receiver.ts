import { crc32c } from '../codec/crc32c.js';
import type { InstallSnapshot, NodeId, SnapshotMeta } from '../core/index.js';
import type { SnapshotWriter, StoredSnapshot } from '../storage/log-storage.js';

/** What a receiver needs from its node. */
export interface SnapshotReceiverHost {
  now(): number;
  /** Chunks waiting to be written at once; beyond it chunks are dropped (the leader resends). */
  readonly queuedChunksMax: number;
  create(meta: SnapshotMeta): Promise<SnapshotWriter>;
  latest(): Promise<StoredSnapshot | null>;
  /** Acknowledges the first `bytesReceived` bytes (cumulative), or refuses the whole. */
  respond(chunk: InstallSnapshot, bytesReceived: number, success: boolean): void;
  /** A complete, verified snapshot was published: install it. */
  complete(stored: StoredSnapshot, from: NodeId, durationMs: number): void;
  /** The whole snapshot failed its checksum: it was discarded, and is counted as a bad message. */
  rejected(chunk: InstallSnapshot): void;
}

/** The snapshot being received: which one, and how much of it is written. */
interface Partial {
  readonly key: string;
  readonly meta: SnapshotMeta;
  readonly writer: SnapshotWriter;
  readonly startedAt: number;
  /** The highest leader term that sent chunks of it. */
  term: number;
  bytes: number;
  checksum: number;
  complete: boolean;
}

/**
 * The follower's side of InstallSnapshot. Chunks are written in order to a storage snapshot
 * writer: a chunk at the expected offset extends it, any other is answered with how far this
 * server is, so the leader resumes there (lost, duplicated and reordered chunks cost nothing but
 * a resend). The partial copy outlives a leader change: a new leader with the same snapshot (same
 * index, term, size and checksum) continues from it. A new leader with another snapshot wins,
 * even an older one: the deposed leader will never finish its transfer, so keeping its half would
 * leave this server waiting forever. Once every byte is in and the CRC-32C matches,
 * the snapshot is published and handed over for installation; a mismatch discards it and asks for
 * it again. A crash loses the unpublished copy, as storage discards it at open.
 */
export class SnapshotReceiver {
  readonly #host: SnapshotReceiverHost;
  #partial: Partial | null = null;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(host: SnapshotReceiverHost) {
    this.#host = host;
  }

  /** Takes one chunk the core accepted. Chunks are handled one at a time, in arrival order. */
  receive(chunk: InstallSnapshot): Promise<void> {
    if (this.#queued >= this.#host.queuedChunksMax) return Promise.resolve();
    this.#queued++;
    this.#queue = this.#queue
      .then(() => this.#handle(chunk))
      .finally(() => {
        this.#queued--;
      });
    return this.#queue;
  }

  /** Discards the partial copy (the node stops). */
  async abandon(): Promise<void> {
    const partial = this.#partial;
    this.#partial = null;
    if (partial !== null && !partial.complete) await partial.writer.abort().catch(() => undefined);
  }

  async #handle(chunk: InstallSnapshot): Promise<void> {
    const key = `${chunk.snapshot.index}/${chunk.snapshot.term}/${chunk.totalBytes}/${chunk.checksum}`;
    let partial = this.#partial;
    if (partial !== null && partial.key !== key) {
      if (!displaces(chunk, partial)) return;
      await this.abandon();
      partial = null;
    }
    if (partial !== null) partial.term = Math.max(partial.term, chunk.term);
    if (partial === null) {
      if (chunk.offset !== 0) {
        this.#host.respond(chunk, 0, true);
        return;
      }
      // This server may have taken a snapshot as new itself meanwhile: it needs nothing more, and
      // storage refuses to start a copy that could not replace the one it holds.
      const latest = await this.#host.latest();
      if (latest !== null && latest.meta.index >= chunk.snapshot.index) {
        this.#host.respond(chunk, chunk.totalBytes, true);
        return;
      }
      partial = {
        key,
        meta: chunk.snapshot,
        writer: await this.#host.create(chunk.snapshot),
        startedAt: this.#host.now(),
        term: chunk.term,
        bytes: 0,
        checksum: 0,
        complete: false,
      };
      this.#partial = partial;
    }
    if (partial.complete || chunk.offset !== partial.bytes) {
      this.#host.respond(chunk, partial.bytes, true);
      return;
    }
    await partial.writer.write(chunk.data);
    partial.bytes += chunk.data.byteLength;
    partial.checksum = crc32c(chunk.data, partial.checksum);
    if (partial.bytes < chunk.totalBytes) {
      this.#host.respond(chunk, partial.bytes, true);
      return;
    }
    await this.#finish(partial, chunk);
  }

  async #finish(partial: Partial, chunk: InstallSnapshot): Promise<void> {
    if (partial.bytes !== chunk.totalBytes || partial.checksum !== chunk.checksum) {
      await this.abandon();
      this.#host.rejected(chunk);
      this.#host.respond(chunk, 0, false);
      return;
    }
    partial.complete = true;
    const latest = await this.#host.latest();
    if (latest !== null && latest.meta.index >= partial.meta.index) {
      // This server already holds a snapshot as new; nothing to install from this one.
      await partial.writer.abort();
      this.#host.respond(chunk, partial.bytes, true);
      return;
    }
    const stored = await partial.writer.publish(partial.checksum);
    this.#host.respond(chunk, partial.bytes, true);
    this.#host.complete(stored, chunk.from, this.#host.now() - partial.startedAt);
  }
}

/**
 * Whether a chunk of another snapshot replaces the partial copy: a later leader's always does,
 * the same leader's only when newer (it took another snapshot meanwhile); a deposed leader's never.
 */
function displaces(chunk: InstallSnapshot, partial: Partial): boolean {
  if (chunk.term !== partial.term) return chunk.term > partial.term;
  return chunk.snapshot.index > partial.meta.index;
}
