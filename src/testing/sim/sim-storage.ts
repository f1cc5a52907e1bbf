import { RaftError } from '../../core/errors.js';
import type { Entry, HardState, SnapshotMeta } from '../../core/types.js';
import type { MemoryStorage } from '../../storage/memory/memory-storage.js';
import type {
  LogStorage,
  SaveBatch,
  SnapshotWriter,
  StoredSnapshot,
  StoredState,
} from '../../storage/log-storage.js';
import type { GatedClock } from './gated-clock.js';
import { ShadowLog } from './shadow-log.js';

/** What a {@link SimStorage} reports to the simulator. */
export interface SimStorageHooks {
  /** Delay until the write just issued becomes durable (the disk's fsync latency). */
  readonly syncDelayMs: () => number;
  /** Entries the node wrote, right after the write was issued. */
  readonly onEntries: (entries: readonly Entry[], log: ShadowLog) => void;
  /** How many pending write steps survive when a failed write kills the process. */
  readonly stepsKeptOnFailure: (pendingStepCount: number) => number;
  /** A write failed as an fsync would; the node will stop, and `survivor` is what a restart finds. */
  readonly onWriteFailed: () => void;
}

/**
 * The disk of one process incarnation: a {@link MemoryStorage} in manual-sync mode whose writes
 * become durable only when the simulator's clock says the disk has caught up. It keeps a
 * {@link ShadowLog} for the checkers and, when a write fails, crashes the memory storage at that
 * instant so a restart finds exactly what a real disk would have kept.
 */
export class SimStorage implements LogStorage {
  readonly #inner: MemoryStorage;
  readonly #clock: GatedClock;
  readonly #hooks: SimStorageHooks;
  readonly log = new ShadowLog();
  #survivor: MemoryStorage | null = null;
  #lastHardState: HardState | null = null;

  constructor(options: { inner: MemoryStorage; clock: GatedClock; hooks: SimStorageHooks }) {
    this.#inner = options.inner;
    this.#clock = options.clock;
    this.#hooks = options.hooks;
  }

  /** The memory storage underneath (for `failNextWrite` and crash). */
  get inner(): MemoryStorage {
    return this.#inner;
  }

  /** Set once a write failed: the storage a restarted process finds. */
  get survivor(): MemoryStorage | null {
    return this.#survivor;
  }

  /** The hard state last written (visible, maybe not yet durable). */
  get lastHardState(): HardState | null {
    return this.#lastHardState;
  }

  /** Reads what the storage holds into the shadow log; call before the node opens it. */
  async load(): Promise<void> {
    const stored = await this.#inner.open();
    if (stored === null) return;
    const entries =
      stored.lastIndex > stored.snapshot.index
        ? await this.#inner.entries(stored.snapshot.index + 1, stored.lastIndex + 1)
        : [];
    this.log.reset(stored.snapshot.index, stored.snapshot.term, entries);
    this.#lastHardState = stored.hardState;
  }

  open(): Promise<StoredState | null> {
    return this.#inner.open();
  }

  bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    return this.#issue(
      () => this.#inner.bootstrap(snapshot, hardState),
      () => {
        this.log.reset(snapshot.index, snapshot.term, []);
        this.#lastHardState = hardState;
      },
    );
  }

  save(batch: SaveBatch): Promise<void> {
    return this.#issue(
      () => this.#inner.save(batch),
      () => {
        if (batch.hardState !== undefined) this.#lastHardState = batch.hardState;
        if (batch.entries !== undefined && batch.entries.length > 0) {
          this.log.append(batch.entries);
          this.#hooks.onEntries(batch.entries, this.log);
        }
      },
    );
  }

  entries(from: number, to: number): Promise<Entry[]> {
    return this.#inner.entries(from, to);
  }

  compact(snapshot: SnapshotMeta): Promise<void> {
    return this.#issue(
      () => this.#inner.compact(snapshot),
      () => this.log.compact(snapshot.index, snapshot.term),
    );
  }

  latestSnapshot(): Promise<StoredSnapshot | null> {
    return this.#inner.latestSnapshot();
  }

  /** Snapshot data is written to the simulated disk; only its publish waits for a sync. */
  async createSnapshot(meta: SnapshotMeta): Promise<SnapshotWriter> {
    const writer = await this.#inner.createSnapshot(meta);
    return {
      write: (chunk) => writer.write(chunk),
      publish: (checksum) =>
        this.#issue(
          () => writer.publish(checksum),
          () => undefined,
        ),
      abort: () => writer.abort(),
    };
  }

  readSnapshot(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    return this.#inner.readSnapshot(index, offset, bytesMax);
  }

  setBroken(reason: string | null): Promise<void> {
    return this.#issue(
      () => this.#inner.setBroken(reason),
      () => undefined,
    );
  }

  close(): Promise<void> {
    // A crashed memory storage refuses everything; the process that would close it is gone.
    if (this.#survivor !== null) return Promise.resolve();
    return this.#inner.close();
  }

  /**
   * Runs one write. The memory storage queues it synchronously when it accepts it, which is how
   * this wrapper tells an accepted write (mirror it, schedule its sync) from a refused one.
   */
  #issue<Result>(write: () => Promise<Result>, mirror: () => void): Promise<Result> {
    const pendingBefore = this.#inner.pendingWriteCount;
    let promise: Promise<Result>;
    try {
      promise = write();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#inner.pendingWriteCount > pendingBefore) {
      mirror();
      this.#clock.scheduleLabelled('disk', this.#hooks.syncDelayMs(), () => this.#inner.sync());
      return promise;
    }
    return promise.catch((error: unknown) => {
      if (
        error instanceof RaftError &&
        error.code === 'STORAGE_FAILED' &&
        this.#survivor === null
      ) {
        const kept = this.#hooks.stepsKeptOnFailure(this.#inner.pendingStepCount);
        this.#survivor = this.#inner.crash({ pendingStepsKept: kept });
        this.#hooks.onWriteFailed();
      }
      throw error;
    });
  }
}
