import { RaftError, type Entry, type HardState, type SnapshotMeta } from '../../core/index.js';
import { copyEntry, copyHardState, copySnapshotMeta } from '../entry-copy.js';
import type {
  LogStorage,
  SaveBatch,
  SnapshotWriter,
  StoredSnapshot,
  StoredState,
} from '../log-storage.js';
import {
  assertChecksum,
  assertCompaction,
  assertPublishable,
  assertSnapshotRead,
  sliceSnapshot,
  assertEntriesRange,
  assertSaveBatch,
  keepsEntriesAfterCompaction,
  type LogBounds,
} from '../storage-checks.js';
import { StorageGuard, assertNotBootstrapped } from '../storage-guard.js';
import { onMicrotask } from '../../platform/microtask.js';

/** What a memory storage holds; the same shape serves as the "disk" and as the "page cache". */
interface MemoryState {
  hardState: HardState | null;
  snapshot: SnapshotMeta | null;
  /** `entries[i]` has index `snapshot.index + 1 + i`. */
  entries: Entry[];
  /** Why a failed apply marked this storage broken, or null. */
  broken: string | null;
  /** The published snapshot and its data, or null. */
  published: { readonly stored: StoredSnapshot; readonly data: Uint8Array } | null;
}

/** A hard state to store, as a record rather than a closure: most saves carry one. */
class HardStateStep {
  constructor(readonly hardState: HardState) {}
}

/**
 * The smallest unit a crash can keep or lose: one entry, one hard state, one compaction or one
 * bootstrap, in the order the calls issued them. A crash keeps a prefix of the pending steps.
 * A function step may replace `state.entries` but never cuts or extends it in place.
 */
type WriteStep = ((state: MemoryState) => void) | HardStateStep | Entry;

interface PendingWrite {
  readonly steps: readonly WriteStep[];
  readonly resolve: () => void;
}

/** Options for {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * When true, a write stays pending (its promise unresolved, its effect not yet durable) until
   * {@link MemoryStorage.sync} is called, so a simulator decides when the disk catches up. When
   * false (the default) each write becomes durable one microtask after it is issued.
   */
  readonly manualSync?: boolean;
}

/** What a {@link MemoryStorage} would keep in a crash, read in place (see `durableState`). */
export interface DurableMemoryState {
  readonly hardState: HardState | null;
  readonly snapshot: SnapshotMeta | null;
  /** `entries[i]` has index `snapshot.index + 1 + i`. */
  readonly entries: readonly Entry[];
}

/** Options for {@link MemoryStorage.crash}. */
export interface MemoryCrashOptions {
  /**
   * How many of the pending write steps reached the disk before the crash anyway (an operating
   * system may flush part of what was never synced). Steps are single entries, hard states,
   * compactions and bootstraps in issue order, so any value keeps a prefix that the `LogStorage`
   * contract allows. Defaults to 0: every unsynced write is lost. See
   * {@link MemoryStorage.pendingStepCount}.
   */
  readonly pendingStepsKept?: number;
}

function emptyState(): MemoryState {
  return { hardState: null, snapshot: null, entries: [], broken: null, published: null };
}

function cloneState(state: MemoryState): MemoryState {
  return {
    hardState: state.hardState === null ? null : copyHardState(state.hardState),
    snapshot: state.snapshot === null ? null : copySnapshotMeta(state.snapshot),
    // Stored entries are never changed in place (see LogStorage's ownership rule), so the two
    // states may share them.
    entries: [...state.entries],
    broken: state.broken,
    // Published snapshot data is never changed in place either.
    published: state.published,
  };
}

function boundsOf(state: MemoryState): LogBounds {
  const snapshotIndex = state.snapshot?.index ?? 0;
  return { snapshotIndex, lastIndex: snapshotIndex + state.entries.length };
}

/**
 * Applies one step. An entry is its own step (appending it), so a save makes no closure per
 * entry: saves are the storage's hot path.
 */
function applyStep(step: WriteStep, state: MemoryState): void {
  if (typeof step === 'function') step(state);
  else if (step instanceof HardStateStep) state.hardState = step.hardState;
  else appendEntry(state, step);
}

function appendEntry(state: MemoryState, entry: Entry): void {
  const snapshotIndex = state.snapshot?.index ?? 0;
  // A first index at or below the last one replaces the conflicting suffix. Setting an array's
  // length is a slow runtime call, so it is done only when there is something to cut.
  const kept = entry.index - snapshotIndex - 1;
  if (state.entries.length !== kept) state.entries.length = kept;
  state.entries.push(entry);
}

function compactStep(snapshot: SnapshotMeta): WriteStep {
  return (state) => {
    const bounds = boundsOf(state);
    const offset = snapshot.index - bounds.snapshotIndex;
    const termAtIndex = offset === 0 ? state.snapshot?.term : state.entries[offset - 1]?.term;
    state.entries = keepsEntriesAfterCompaction(snapshot, bounds, termAtIndex)
      ? state.entries.slice(offset)
      : [];
    state.snapshot = snapshot;
  };
}

/**
 * A complete {@link LogStorage} held in memory, for tests, examples and the simulator.
 *
 * It models durability: every write is first visible (reads see it at once) and becomes durable
 * when its promise resolves. {@link MemoryStorage.crash} returns the storage a restarted process
 * would find, without the writes that were still pending. {@link MemoryStorage.failNextWrite}
 * makes the next write fail like a failed fsync; afterwards the storage refuses every write with
 * `STORAGE_FAILED`, as a real disk adapter must, because nothing half-written can be trusted.
 * Entries given to `save` are kept as they are, under {@link LogStorage}'s ownership rule (the
 * caller never changes them afterwards); everything a read returns is a copy, so a reader cannot
 * change stored state by mutating it.
 */
export class MemoryStorage implements LogStorage {
  readonly #manualSync: boolean;
  /**
   * What survives a crash, except that its `entries` array may run past the durable log: only the
   * first {@link MemoryStorage.#durableLength} are durable. Once every write is synced it is the
   * very array `#visible` holds (the two states are equal then), so an entry appended and synced
   * is pushed once rather than once per state; a visible write that would cut into the durable
   * part of a shared array, or anything else than appending, unshares it first.
   */
  #durable: MemoryState;
  #durableLength = 0;
  /** What reads see: the durable state plus every pending write. */
  #visible: MemoryState;
  #pending: PendingWrite[] = [];
  #flushScheduled = false;
  readonly #guard = new StorageGuard();
  #crashed = false;
  #injectedFailure: Error | null = null;

  /** Creates an empty storage. */
  constructor(options: MemoryStorageOptions = {}) {
    this.#manualSync = options.manualSync ?? false;
    this.#durable = emptyState();
    this.#visible = emptyState();
  }

  /** The number of write steps not yet durable (what {@link MemoryCrashOptions} counts). */
  get pendingStepCount(): number {
    return this.#pending.reduce((count, write) => count + write.steps.length, 0);
  }

  /** The number of calls whose promise has not resolved because their write is not yet durable. */
  get pendingWriteCount(): number {
    return this.#pending.length;
  }

  async open(): Promise<StoredState | null> {
    this.#assertUsable();
    await Promise.resolve();
    this.#guard.opened();
    const { hardState, snapshot } = this.#visible;
    if (hardState === null || snapshot === null) return null;
    return {
      hardState: copyHardState(hardState),
      snapshot: copySnapshotMeta(snapshot),
      lastIndex: boundsOf(this.#visible).lastIndex,
      ...(this.#visible.broken === null ? {} : { broken: this.#visible.broken }),
    };
  }

  /** Durably records (or clears) the broken mark that `open` reports. */
  setBroken(reason: string | null): Promise<void> {
    return this.#write(() => [
      (state) => {
        state.broken = reason;
      },
    ]);
  }

  bootstrap(snapshot: SnapshotMeta, hardState: HardState): Promise<void> {
    return this.#write(() => {
      assertNotBootstrapped(this.#visible.snapshot !== null);
      assertCompaction(snapshot, { snapshotIndex: 0, lastIndex: 0 });
      const storedSnapshot = copySnapshotMeta(snapshot);
      const storedHardState = copyHardState(hardState);
      return [
        (state) => {
          state.snapshot = storedSnapshot;
          state.hardState = storedHardState;
          state.entries = [];
        },
      ];
    });
  }

  save(batch: SaveBatch): Promise<void> {
    return this.#write(() => {
      assertSaveBatch(batch, this.#bounds());
      // The entries themselves are kept, not copied: the caller never changes them afterwards
      // (LogStorage's ownership rule), and three copies per entry, one on every server of an
      // in-process cluster, were most of the time spent saving.
      const steps: WriteStep[] = batch.entries === undefined ? [] : [...batch.entries];
      if (batch.hardState !== undefined) {
        steps.push(new HardStateStep(copyHardState(batch.hardState)));
      }
      return steps;
    });
  }

  async entries(from: number, to: number): Promise<Entry[]> {
    this.#assertOpen();
    await Promise.resolve();
    const bounds = this.#bounds();
    assertEntriesRange(from, to, bounds);
    const start = from - bounds.snapshotIndex - 1;
    const entries: Entry[] = new Array<Entry>(to - from);
    for (let position = 0; position < entries.length; position++) {
      entries[position] = copyEntry(this.#visible.entries[start + position]!);
    }
    return entries;
  }

  compact(snapshot: SnapshotMeta): Promise<void> {
    return this.#write(() => {
      assertCompaction(snapshot, this.#bounds());
      return [compactStep(copySnapshotMeta(snapshot))];
    });
  }

  async latestSnapshot(): Promise<StoredSnapshot | null> {
    this.#assertOpen();
    await Promise.resolve();
    const published = this.#visible.published;
    return published === null ? null : copyStoredSnapshot(published.stored);
  }

  async createSnapshot(meta: SnapshotMeta): Promise<SnapshotWriter> {
    this.#assertOpen();
    await Promise.resolve();
    const storedMeta = copySnapshotMeta(meta);
    const chunks: Uint8Array[] = [];
    let done = false;
    const finish = (): void => {
      if (done) throw new RaftError('INVARIANT', 'invalid storage call: snapshot writer closed');
      done = true;
    };
    return {
      write: async (chunk) => {
        if (done) throw new RaftError('INVARIANT', 'invalid storage call: snapshot writer closed');
        this.#assertOpen();
        chunks.push(chunk.slice());
        await Promise.resolve();
      },
      publish: async (checksum) => {
        assertChecksum(checksum);
        assertPublishable(storedMeta.index, this.#visible.published?.stored.meta.index ?? null);
        finish();
        const data = concatenate(chunks);
        const stored: StoredSnapshot = { meta: storedMeta, bytes: data.byteLength, checksum };
        await this.#write(() => [
          (state) => {
            state.published = { stored, data };
          },
        ]);
        return copyStoredSnapshot(stored);
      },
      abort: async () => {
        done = true;
        chunks.length = 0;
        await Promise.resolve();
      },
    };
  }

  async readSnapshot(index: number, offset: number, bytesMax: number): Promise<Uint8Array | null> {
    this.#assertOpen();
    assertSnapshotRead(index, offset, bytesMax);
    await Promise.resolve();
    const published = this.#visible.published;
    if (published === null || published.stored.meta.index !== index) return null;
    return sliceSnapshot(published.data, offset, bytesMax);
  }

  /**
   * What a crash would keep right now (synced writes only), read synchronously (without a copy of
   * the entries while every write is synced):
   * a simulator's checkers hold a server to what it promised with it. Valid until the next write.
   */
  get durableState(): DurableMemoryState {
    const { hardState, snapshot } = this.#durable;
    return { hardState, snapshot, entries: this.#durableEntries() };
  }

  /** Makes every pending write durable and closes; the same instance may be opened again. */
  async close(): Promise<void> {
    if (this.#crashed) return;
    this.sync();
    await Promise.resolve();
    this.#guard.closed();
  }

  /** Makes every pending write durable and resolves their promises, oldest first. */
  sync(): void {
    const writes = this.#pending;
    this.#pending = [];
    for (const write of writes) {
      for (const step of write.steps) this.#applyDurable(step);
      write.resolve();
    }
    // Every write is durable now, so the durable state equals the visible one: share its entries.
    this.#durable.entries = this.#visible.entries;
    this.#durableLength = this.#visible.entries.length;
  }

  /**
   * Simulates a crash of the process or the machine. Returns the storage a restarted server would
   * open: the durable state plus `pendingStepsKept` of the pending steps. This instance is dead
   * afterwards: its pending promises never settle (the process that awaited them is gone) and
   * every further call rejects with `STOPPED`.
   */
  crash(options: MemoryCrashOptions = {}): MemoryStorage {
    this.#assertUsable();
    const kept = options.pendingStepsKept ?? 0;
    if (!Number.isSafeInteger(kept) || kept < 0 || kept > this.pendingStepCount) {
      throw new RaftError('INVALID_CONFIG', 'pendingStepsKept must lie within pendingStepCount', {
        details: { option: 'pendingStepsKept', value: kept },
      });
    }
    const survivor = cloneState({ ...this.#durable, entries: this.#durableEntries() });
    const steps = this.#pending.flatMap((write) => write.steps).slice(0, kept);
    for (const step of steps) applyStep(step, survivor);
    this.#crashed = true;
    this.#pending = [];
    const restarted = new MemoryStorage({ manualSync: this.#manualSync });
    restarted.#durable = survivor;
    restarted.#durableLength = survivor.entries.length;
    restarted.#visible = cloneState(survivor);
    return restarted;
  }

  /**
   * Makes the next `save`, `compact` or `bootstrap` fail as a failed fsync would: it rejects with
   * `STORAGE_FAILED` (its cause is `error`, by default an `EIO` error), its effect is not durable,
   * and the storage refuses every later write.
   */
  failNextWrite(
    error: Error = Object.assign(new Error('simulated I/O error'), { code: 'EIO' }),
  ): void {
    this.#injectedFailure = error;
  }

  #bounds(): LogBounds {
    return boundsOf(this.#visible);
  }

  #assertUsable(): void {
    if (this.#crashed) {
      throw new RaftError('STOPPED', 'this memory storage crashed; use the one crash() returned');
    }
  }

  #assertOpen(): void {
    this.#assertUsable();
    this.#guard.assertOpen();
  }

  /**
   * Runs one write: `prepare` validates and returns the steps (throwing before anything changes),
   * the steps apply to the visible state at once and to the durable state when synced.
   */
  #write(prepare: () => WriteStep[]): Promise<void> {
    // The write's own promise, not an async wrapper around it: a save is one hop shorter. The
    // executor runs at once, and whatever the checks throw rejects the write.
    return new Promise<void>((resolve) => {
      this.#assertUsable();
      // Reads stay possible after a failed write (what they see was never half-written); writes
      // not.
      this.#guard.assertUsable();
      const steps = prepare();
      if (this.#injectedFailure !== null) {
        const cause = this.#injectedFailure;
        this.#injectedFailure = null;
        // The failed write's steps were never applied, so reads keep seeing only what was
        // written before it.
        throw this.#guard.fail(
          new RaftError('STORAGE_FAILED', 'simulated write failure', { cause }),
        );
      }
      for (const step of steps) this.#applyVisible(step);
      this.#pending.push({ steps, resolve });
      this.#scheduleFlush();
    });
  }

  /** The durable log's entries, exactly (a copy when the array runs past them). */
  #durableEntries(): Entry[] {
    const entries = this.#durable.entries;
    return entries.length === this.#durableLength ? entries : entries.slice(0, this.#durableLength);
  }

  /**
   * Gives the durable state an array of its own, holding exactly the durable log. Always a copy
   * while shared, even when the shared array is exactly the durable log: the visible write that
   * follows may cut that array in place.
   */
  #unshareDurable(): void {
    const durable = this.#durable;
    if (durable.entries === this.#visible.entries) {
      durable.entries = durable.entries.slice(0, this.#durableLength);
    } else if (durable.entries.length !== this.#durableLength) {
      durable.entries.length = this.#durableLength;
    }
  }

  #applyVisible(step: WriteStep): void {
    if (this.#durable.entries === this.#visible.entries && !(step instanceof HardStateStep)) {
      // Appending past the durable part leaves it intact; anything else unshares first.
      const position =
        typeof step === 'function' ? -1 : step.index - (this.#visible.snapshot?.index ?? 0) - 1;
      if (position < this.#durableLength) this.#unshareDurable();
    }
    applyStep(step, this.#visible);
  }

  #applyDurable(step: WriteStep): void {
    const durable = this.#durable;
    if (step instanceof HardStateStep) {
      durable.hardState = step.hardState;
      return;
    }
    if (typeof step === 'function') {
      this.#unshareDurable();
      step(durable);
      this.#durableLength = durable.entries.length;
      return;
    }
    const position = step.index - (durable.snapshot?.index ?? 0) - 1;
    // A shared array already holds the entry where the durable log takes it (the visible state
    // appended it): the durable log just grows over it.
    if (durable.entries[position] !== step) {
      this.#durableLength = position;
      this.#unshareDurable();
      durable.entries.push(step);
    }
    this.#durableLength = position + 1;
  }

  #scheduleFlush(): void {
    if (this.#manualSync || this.#flushScheduled) return;
    this.#flushScheduled = true;
    onMicrotask(() => {
      this.#flushScheduled = false;
      if (!this.#crashed) this.sync();
    });
  }
}

function copyStoredSnapshot(stored: StoredSnapshot): StoredSnapshot {
  return { meta: copySnapshotMeta(stored.meta), bytes: stored.bytes, checksum: stored.checksum };
}

function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  const data = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return data;
}
