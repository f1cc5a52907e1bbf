import type {
  Entry,
  HardState,
  LogStorage,
  SaveBatch,
  SnapshotMeta,
  SnapshotWriter,
  StoredSnapshot,
  StoredState,
} from 'raftkit';
import type { Timing } from './kv-metrics.js';

/**
 * Wraps a {@link LogStorage} to time each `save` (one group commit: the write and its fsync), so
 * the metrics can show what durability costs. Every call is passed through unchanged.
 */
export class TimedStorage implements LogStorage {
  readonly #inner: LogStorage;
  readonly #saveSeconds: Timing;

  constructor(inner: LogStorage, saveSeconds: Timing) {
    this.#inner = inner;
    this.#saveSeconds = saveSeconds;
  }

  open(): Promise<StoredState | null> {
    return this.#inner.open();
  }

  async recordCleanStop(): Promise<void> {
    await this.#inner.recordCleanStop?.();
  }

  bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    return this.#inner.bootstrap(snapshot, hardState);
  }

  async save(batch: SaveBatch): Promise<void> {
    const started = performance.now();
    await this.#inner.save(batch);
    this.#saveSeconds.observe((performance.now() - started) / 1000);
  }

  entries(from: number, to: number): Promise<Entry[]> {
    return this.#inner.entries(from, to);
  }

  compact(snapshot: SnapshotMeta): Promise<void> {
    return this.#inner.compact(snapshot);
  }

  latestSnapshot(): Promise<StoredSnapshot | null> {
    return this.#inner.latestSnapshot();
  }

  createSnapshot(meta: SnapshotMeta): Promise<SnapshotWriter> {
    return this.#inner.createSnapshot(meta);
  }

  readSnapshot(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    return this.#inner.readSnapshot(index, offset, bytesMax);
  }

  setBroken(reason: string | null): Promise<void> {
    return this.#inner.setBroken?.(reason) ?? Promise.resolve();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
