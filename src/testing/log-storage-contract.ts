import { describe, expect, it } from 'vitest';
import {
  RaftError,
  bootstrapSnapshot,
  configurationOf,
  type Configuration,
  type Entry,
  type HardState,
  type SnapshotMeta,
} from '../core/index.js';
import type { LogStorage, StoredState } from '../storage/log-storage.js';
import { registerCleanStopTests } from './clean-stop-contract.js';
import { registerSnapshotStoreTests } from './snapshot-store-contract.js';

/** How the contract suite makes, reopens, crashes and removes the storage under test. */
export interface LogStorageContractOptions<Storage extends LogStorage = LogStorage> {
  /** Names the `describe` block; defaults to "LogStorage contract". */
  readonly name?: string;
  /** A fresh, empty storage that has not been opened. */
  create(): Promise<Storage> | Storage;
  /**
   * A storage over the same durable medium as `storage`, which the suite has closed. It may be
   * `storage` itself when the adapter supports opening again after `close`.
   */
  reopen(storage: Storage): Promise<Storage> | Storage;
  /** Removes everything `create` made (files, databases). Receives the latest instance. */
  destroy(storage: Storage): Promise<void> | void;
  /**
   * Optional: simulates a crash of the process while a write may be in flight, without waiting for
   * it, and returns a storage over what survived (not yet opened). Without it the crash tests are
   * not registered.
   */
  crash?(storage: Storage): Promise<Storage> | Storage;
  /**
   * Whether the storages `create` makes report, at the next open, a clean stop recorded by
   * `recordCleanStop` (`StoredState.closedForMs`). By default, whether they implement it; `false`
   * for an adapter that records stops only on some machines (the built-in ones need a boot id)
   * when it runs elsewhere. Either way no storage may report a stop after a close alone or a crash.
   */
  readonly recordsCleanStops?: boolean;
}

/** What one test works with: the current instance and the ways to replace it. */
interface Session {
  readonly storage: LogStorage;
  /** Closes the storage and opens it again, returning what `open` reported. */
  reopen(): Promise<StoredState | null>;
  /** Crashes the storage (the `crash` hook) and opens what survived. */
  crash(): Promise<StoredState | null>;
  /** Closes the storage without recording a stop and opens it again; `open`'s result as is. */
  reopenAsIs(): Promise<StoredState | null>;
}

const encoder = new TextEncoder();
const initialHardState: HardState = { term: 0, vote: null, commit: 0 };
const initialConfiguration = configurationOf(['n1', 'n2', 'n3'], {
  addresses: { n1: 'tcp://10.0.0.1:7000', n2: 'tcp://10.0.0.2:7000', n3: 'tcp://10.0.0.3:7000' },
});
const bootstrapMarker = bootstrapSnapshot(initialConfiguration);
/** Entries in the large-batch test: enough to cross any reasonable segment or page boundary. */
const largeBatchEntryCount = 10_000;
/** Size of each command in the large-command test. */
const largeCommandBytes = 1024 * 1024;
const largeCommandCount = 4;
/** Entries in the long-log test: far past where spreading an array into a call overflows the stack. */
const longLogEntryCount = 1_000_000;
/** Entries per save while building the long log, and per read while checking it. */
const longLogBatchEntries = 50_000;

/** A command entry whose bytes name its index and term, so a misplaced entry is visible. */
function command(index: number, term: number, text = `command ${index}@${term}`): Entry {
  return { kind: 'command', index, term, data: encoder.encode(text) };
}

function commands(from: number, to: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= to; index++) entries.push(command(index, term));
  return entries;
}

function marker(index: number, term: number, configuration?: Configuration): SnapshotMeta {
  return { ...bootstrapMarker, index, term, configuration: configuration ?? initialConfiguration };
}

async function expectInvariant(promise: Promise<unknown>): Promise<void> {
  const outcome: unknown = await promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(RaftError);
  expect((outcome as RaftError).code).toBe('INVARIANT');
}

/**
 * Compares command bytes in one call: element-wise deep equality of megabyte arrays would take
 * seconds.
 */
function expectSameCommandBytes(actual: Entry | undefined, expected: Entry | undefined): void {
  if (actual?.kind !== 'command' || expected?.kind !== 'command') {
    throw new Error('both entries must be commands');
  }
  expect(actual.data.constructor).toBe(Uint8Array);
  expect(actual.data.length).toBe(expected.data.length);
  expect(Buffer.compare(actual.data, expected.data)).toBe(0);
}

/**
 * Checks what an open says about a clean stop, then drops it so states compare whole. It is
 * optional, but a storage that reports it must report a plausible duration after a clean close,
 * and never after a crash: the node would take the old stop for the last moment it spoke.
 */
function withoutCleanStop(
  stored: StoredState | null,
  after: { readonly closedWithinMs: number } | 'after a crash',
): StoredState | null {
  if (stored === null || !('closedForMs' in stored)) return stored;
  const { closedForMs, ...rest } = stored;
  if (after === 'after a crash') {
    throw new Error(`open reported closedForMs ${String(closedForMs)} after a crash`);
  }
  // Longer than the test saw pass would let a node count silence that never was (1 ms rounding).
  expect(closedForMs).toBeGreaterThanOrEqual(0);
  expect(closedForMs).toBeLessThanOrEqual(after.closedWithinMs + 1);
  return rest;
}

/**
 * Registers Vitest tests that check a {@link LogStorage} implementation against the contract the
 * runtime relies on: bootstrap and open, ordering, suffix truncation, prefix compaction, reopen
 * after close and after a crash, hard-state atomicity, large batches, exact round-trips of every
 * entry kind, entries given to `save` left unchanged and copies returned by `entries`, rejection
 * of invalid calls with RaftError `INVARIANT`, the snapshot data store (atomic publish,
 * unpublished data discarded, exact reads at any offset), and clean stops (`closedForMs` after
 * `recordCleanStop`, within the time that passed, to the next open only; never after a close
 * alone or a crash).
 *
 * Call it at the top level of a test file:
 *
 * ```ts
 * logStorageContract({
 *   create: () => new MyStorage(tempPath()),
 *   reopen: (storage) => new MyStorage(storage.path),
 *   destroy: (storage) => removeTemp(storage.path),
 * });
 * ```
 */
export function logStorageContract<Storage extends LogStorage>(
  options: LogStorageContractOptions<Storage>,
): void {
  async function withSession(test: (session: Session) => Promise<void>): Promise<void> {
    let storage = await options.create();
    const session: Session = {
      get storage() {
        return storage;
      },
      async reopen() {
        const closingAt = performance.now();
        await storage.recordCleanStop?.();
        await storage.close();
        storage = await options.reopen(storage);
        const stored = await storage.open();
        return withoutCleanStop(stored, { closedWithinMs: performance.now() - closingAt });
      },
      async crash() {
        if (options.crash === undefined) throw new Error('the crash hook is missing');
        storage = await options.crash(storage);
        return withoutCleanStop(await storage.open(), 'after a crash');
      },
      async reopenAsIs() {
        await storage.close();
        storage = await options.reopen(storage);
        return storage.open();
      },
    };
    try {
      await test(session);
      await storage.close();
    } finally {
      await options.destroy(storage);
    }
  }

  /** Opens a fresh storage and bootstraps it with the standard marker. */
  async function withBootstrapped(test: (session: Session) => Promise<void>): Promise<void> {
    await withSession(async (session) => {
      expect(await session.storage.open()).toBeNull();
      await session.storage.bootstrap(bootstrapMarker, initialHardState);
      await test(session);
    });
  }

  describe(options.name ?? 'LogStorage contract', () => {
    registerBootstrapTests(withSession);
    registerOrderingTests(withBootstrapped);
    registerCompactionTests(withBootstrapped);
    registerDurabilityTests(withBootstrapped);
    if (options.crash !== undefined) registerCrashTests(withBootstrapped);
    registerRoundTripTests(withBootstrapped);
    registerInvalidCallTests(withBootstrapped);
    registerBrokenMarkTests(withBootstrapped);
    registerSnapshotStoreTests(withBootstrapped, options.crash !== undefined);
    registerCleanStopTests(withBootstrapped, {
      crashes: options.crash !== undefined,
      recordsCleanStops: options.recordsCleanStops,
    });
    registerLongLogTests(withBootstrapped);
  });
}

/** Reads the whole log in one call and counts the entries that are not where they belong. */
async function mismatchesInWholeLog(
  storage: LogStorage,
  termOf: (index: number) => number,
): Promise<number> {
  const whole = await storage.entries(1, longLogEntryCount + 1);
  let mismatches = Math.abs(whole.length - longLogEntryCount);
  whole.forEach((entry, position) => {
    const index = position + 1;
    if (entry.index !== index || entry.term !== termOf(index) || entry.kind !== 'command')
      mismatches++;
  });
  return mismatches;
}

/**
 * A server that ran for weeks holds millions of entries and must still restart. Entries are tiny
 * and saved in batches so the test stays fast; the suite builds one batch at a time and checks the
 * read-back log in place, so its own memory stays flat while the storage's read path faces the
 * whole log in one call, as a restarting node does.
 */
function registerLongLogTests(withBootstrapped: SessionRunner): void {
  describe(`a log of ${longLogEntryCount.toLocaleString('en-US')} entries`, () => {
    it(
      'reads back whole after reopening, and any range of it',
      () =>
        withBootstrapped(async (session) => {
          const payload = new Uint8Array([7]);
          const termOf = (index: number): number => 1 + Math.floor(index / 250_000);
          for (let first = 1; first <= longLogEntryCount; first += longLogBatchEntries) {
            const batch: Entry[] = [];
            const last = Math.min(longLogEntryCount, first + longLogBatchEntries - 1);
            for (let index = first; index <= last; index++) {
              batch.push({ kind: 'command', index, term: termOf(index), data: payload });
            }
            await session.storage.save({ entries: batch });
          }
          expect(await session.reopen()).toMatchObject({ lastIndex: longLogEntryCount });
          // The whole range in one call, as a restarting node reads it.
          expect(await mismatchesInWholeLog(session.storage, termOf)).toBe(0);
          // Ranges that start and end inside the log, across term changes.
          for (const from of [1, 249_990, 500_001, longLogEntryCount - 9]) {
            const range = await session.storage.entries(from, from + 10);
            expect(range.map((entry) => entry.index)).toEqual(
              Array.from({ length: 10 }, (_, offset) => from + offset),
            );
            expect(range.map((entry) => entry.term)).toEqual(
              range.map((entry) => termOf(entry.index)),
            );
          }
        }),
      120_000,
    );
  });
}

function registerBrokenMarkTests(withBootstrapped: SessionRunner): void {
  describe('the broken mark a failed apply leaves', () => {
    it('is absent at first, survives reopening once set, and is gone once cleared', () =>
      withBootstrapped(async (session) => {
        expect((await session.reopen())?.broken ?? null).toBeNull();
        await session.storage.setBroken('applying entry 7 failed');
        expect((await session.reopen())?.broken).toBe('applying entry 7 failed');
        await session.storage.save({ entries: [command(1, 1)] });
        expect((await session.reopen())?.lastIndex).toBe(1);
        await session.storage.setBroken(null);
        expect((await session.reopen())?.broken ?? null).toBeNull();
      }));
  });
}

type SessionRunner = (test: (session: Session) => Promise<void>) => Promise<void>;

function registerBootstrapTests(withSession: SessionRunner): void {
  describe('bootstrap and open', () => {
    it('reports nothing on first open, then the bootstrapped state, also after reopen', () =>
      withSession(async (session) => {
        expect(await session.storage.open()).toBeNull();
        const hardState: HardState = { term: 3, vote: 'n2', commit: 0 };
        await session.storage.bootstrap(bootstrapMarker, hardState);
        const expected: StoredState = { hardState, snapshot: bootstrapMarker, lastIndex: 0 };
        expect(await session.reopen()).toEqual(expected);
        expect(await session.storage.entries(1, 1)).toEqual([]);
      }));

    it('bootstraps from a marker beyond index 0, as a server restored from a snapshot', () =>
      withSession(async (session) => {
        await session.storage.open();
        await session.storage.bootstrap(marker(50, 4), initialHardState);
        expect(await session.reopen()).toMatchObject({ lastIndex: 50, snapshot: marker(50, 4) });
        await session.storage.save({ entries: [command(51, 4)] });
        expect(await session.storage.entries(51, 52)).toEqual([command(51, 4)]);
      }));

    it('refuses a second bootstrap', () =>
      withSession(async (session) => {
        await session.storage.open();
        await session.storage.bootstrap(bootstrapMarker, initialHardState);
        await expectInvariant(session.storage.bootstrap(bootstrapMarker, initialHardState));
      }));
  });
}

function registerOrderingTests(withBootstrapped: SessionRunner): void {
  describe('appending and reading', () => {
    it('returns entries in index order across batches, for any sub-range', () =>
      withBootstrapped(async ({ storage }) => {
        await storage.save({ entries: commands(1, 3, 1) });
        await storage.save({ entries: commands(4, 4, 1) });
        await storage.save({ entries: commands(5, 9, 2) });
        expect(await storage.entries(1, 10)).toEqual([...commands(1, 4, 1), ...commands(5, 9, 2)]);
        expect(await storage.entries(4, 6)).toEqual([command(4, 1), command(5, 2)]);
        expect(await storage.entries(9, 10)).toEqual([command(9, 2)]);
        expect(await storage.entries(7, 7)).toEqual([]);
      }));

    it('accepts a batch with neither entries nor hard state', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({});
        expect(await session.reopen()).toMatchObject({ lastIndex: 0, hardState: initialHardState });
      }));

    it('discards the stored suffix when a batch starts at or below the last index', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 10, 1) });
        await session.storage.save({ entries: commands(6, 7, 2) });
        expect(await session.storage.entries(1, 8)).toEqual([
          ...commands(1, 5, 1),
          ...commands(6, 7, 2),
        ]);
        expect(await session.reopen()).toMatchObject({ lastIndex: 7 });
        await session.storage.save({ entries: commands(8, 9, 3) });
        expect(await session.storage.entries(5, 10)).toEqual([
          command(5, 1),
          ...commands(6, 7, 2),
          ...commands(8, 9, 3),
        ]);
      }));

    it('replaces the whole log when a batch starts right after the snapshot index', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 5, 1) });
        await session.storage.save({ entries: [command(1, 2)] });
        expect(await session.reopen()).toMatchObject({ lastIndex: 1 });
        expect(await session.storage.entries(1, 2)).toEqual([command(1, 2)]);
      }));

    it('rewrites the last entry alone when a batch starts exactly there', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 3, 1) });
        await session.storage.save({ entries: [command(3, 2)] });
        expect(await session.reopen()).toMatchObject({ lastIndex: 3 });
        expect(await session.storage.entries(1, 4)).toEqual([...commands(1, 2, 1), command(3, 2)]);
      }));
  });
}

function registerCompactionTests(withBootstrapped: SessionRunner): void {
  describe('prefix compaction', () => {
    it('forgets entries up to the marker and keeps the ones after it', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 10, 1) });
        await session.storage.compact(marker(4, 1));
        expect(await session.storage.entries(5, 11)).toEqual(commands(5, 10, 1));
        await expectInvariant(session.storage.entries(4, 6));
        expect(await session.reopen()).toEqual({
          hardState: initialHardState,
          snapshot: marker(4, 1),
          lastIndex: 10,
        });
        expect(await session.storage.entries(5, 11)).toEqual(commands(5, 10, 1));
        await session.storage.compact(marker(10, 1));
        expect(await session.reopen()).toMatchObject({ snapshot: marker(10, 1), lastIndex: 10 });
        await session.storage.save({ entries: [command(11, 2)] });
        expect(await session.storage.entries(11, 12)).toEqual([command(11, 2)]);
      }));

    it('drops the whole log when the marker lies past its end', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 10, 1) });
        const leaderSnapshot = marker(20, 3, configurationOf(['n1', 'n2', 'n4']));
        await session.storage.compact(leaderSnapshot);
        expect(await session.reopen()).toMatchObject({ snapshot: leaderSnapshot, lastIndex: 20 });
        expect(await session.storage.entries(21, 21)).toEqual([]);
        await expectInvariant(session.storage.save({ entries: [command(20, 3)] }));
        await session.storage.save({ entries: [command(21, 3)] });
        expect(await session.reopen()).toMatchObject({ lastIndex: 21 });
        expect(await session.storage.entries(21, 22)).toEqual([command(21, 3)]);
      }));

    it('drops the log after the marker when the entry at its index has another term (§7)', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 10, 1) });
        await session.storage.compact(marker(5, 2));
        expect(await session.reopen()).toMatchObject({ snapshot: marker(5, 2), lastIndex: 5 });
      }));

    it('accepts the same marker twice and refuses to move it backwards', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 10, 1) });
        await session.storage.compact(marker(6, 1));
        await session.storage.compact(marker(6, 1));
        await expectInvariant(session.storage.compact(marker(3, 1)));
        expect(await session.reopen()).toMatchObject({ snapshot: marker(6, 1), lastIndex: 10 });
      }));

    it('keeps compacting and appending over many rounds', () =>
      withBootstrapped(async (session) => {
        const roundCount = 20;
        const entriesPerRound = 50;
        for (let round = 0; round < roundCount; round++) {
          const first = round * entriesPerRound + 1;
          await session.storage.save({ entries: commands(first, first + entriesPerRound - 1, 1) });
          await session.storage.compact(marker(first + entriesPerRound / 2, 1));
        }
        const lastIndex = roundCount * entriesPerRound;
        const snapshotIndex = lastIndex - entriesPerRound / 2 + 1;
        expect(await session.reopen()).toMatchObject({
          lastIndex,
          snapshot: { index: snapshotIndex },
        });
        expect(await session.storage.entries(snapshotIndex + 1, lastIndex + 1)).toEqual(
          commands(snapshotIndex + 1, lastIndex, 1),
        );
      }));
  });
}

function registerDurabilityTests(withBootstrapped: SessionRunner): void {
  describe('durability across close and reopen', () => {
    it('keeps entries, hard state and marker after close', () =>
      withBootstrapped(async (session) => {
        const hardState: HardState = { term: 2, vote: 'n1', commit: 3 };
        await session.storage.save({ entries: commands(1, 3, 2), hardState });
        expect(await session.reopen()).toEqual({
          hardState,
          snapshot: bootstrapMarker,
          lastIndex: 3,
        });
        expect(await session.storage.entries(1, 4)).toEqual(commands(1, 3, 2));
      }));

    it('replaces the hard state as a whole, with or without entries in the batch', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ hardState: { term: 5, vote: 'n3', commit: 0 } });
        await session.storage.save({ hardState: { term: 6, vote: null, commit: 0 } });
        expect((await session.reopen())?.hardState).toEqual({ term: 6, vote: null, commit: 0 });
        await session.storage.save({ entries: [command(1, 6)] });
        expect((await session.reopen())?.hardState).toEqual({ term: 6, vote: null, commit: 0 });
        await session.storage.save({
          entries: [command(2, 6)],
          hardState: { term: 6, vote: 'n1', commit: 2 },
        });
        expect(await session.reopen()).toMatchObject({
          lastIndex: 2,
          hardState: { term: 6, vote: 'n1', commit: 2 },
        });
      }));

    it(`saves and reads back one batch of ${largeBatchEntryCount} entries`, () =>
      withBootstrapped(async (session) => {
        const batch = commands(1, largeBatchEntryCount, 1);
        await session.storage.save({ entries: batch });
        expect(await session.reopen()).toMatchObject({ lastIndex: largeBatchEntryCount });
        expect(await session.storage.entries(1, largeBatchEntryCount + 1)).toEqual(batch);
      }));

    it(`saves and reads back ${largeCommandCount} commands of 1 MiB each`, () =>
      withBootstrapped(async (session) => {
        const batch: Entry[] = [];
        for (let index = 1; index <= largeCommandCount; index++) {
          const data = new Uint8Array(largeCommandBytes);
          for (let offset = 0; offset < data.length; offset += 4096) data[offset] = index + offset;
          batch.push({ kind: 'command', index, term: 1, data });
        }
        await session.storage.save({ entries: batch.slice(0, 1) });
        await session.storage.save({ entries: batch.slice(1) });
        expect(await session.reopen()).toMatchObject({ lastIndex: largeCommandCount });
        const readBack = await session.storage.entries(1, largeCommandCount + 1);
        expect(readBack.map(({ index, term, kind }) => ({ index, term, kind }))).toEqual(
          batch.map(({ index, term, kind }) => ({ index, term, kind })),
        );
        readBack.forEach((entry, position) => expectSameCommandBytes(entry, batch[position]));
      }));
  });
}

function registerCrashTests(withBootstrapped: SessionRunner): void {
  describe('crash while a write is in flight', () => {
    it('keeps every acknowledged write and at most a prefix of the unacknowledged one', () =>
      withBootstrapped(async (session) => {
        const acknowledged: HardState = { term: 1, vote: 'n1', commit: 1 };
        await session.storage.save({ entries: commands(1, 5, 1), hardState: acknowledged });
        const unacknowledged: HardState = { term: 2, vote: 'n2', commit: 8 };
        const inFlight = session.storage.save({
          entries: commands(6, 8, 2),
          hardState: unacknowledged,
        });
        // The old process is gone: whatever its promise does no longer matters.
        inFlight.catch(() => undefined);
        const state = await session.crash();
        expect(state).not.toBeNull();
        const lastIndex = state?.lastIndex ?? 0;
        expect(lastIndex).toBeGreaterThanOrEqual(5);
        expect(lastIndex).toBeLessThanOrEqual(8);
        expect([acknowledged, unacknowledged]).toContainEqual(state?.hardState);
        expect(await session.storage.entries(1, lastIndex + 1)).toEqual([
          ...commands(1, 5, 1),
          ...commands(6, lastIndex, 2),
        ]);
        await session.storage.save({ entries: [command(lastIndex + 1, 3)] });
        expect(await session.reopen()).toMatchObject({ lastIndex: lastIndex + 1 });
      }));

    it('keeps a suffix truncation and a compaction that were acknowledged', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: commands(1, 10, 1) });
        await session.storage.save({ entries: commands(4, 6, 2) });
        await session.storage.compact(marker(2, 1));
        const state = await session.crash();
        expect(state).toMatchObject({ lastIndex: 6, snapshot: marker(2, 1) });
        expect(await session.storage.entries(3, 7)).toEqual([command(3, 1), ...commands(4, 6, 2)]);
      }));
  });
}

function registerRoundTripTests(withBootstrapped: SessionRunner): void {
  describe('round trips', () => {
    it('returns every entry kind exactly as saved, from memory and after reopen', () =>
      withBootstrapped(async (session) => {
        const joint: Configuration = {
          voters: ['n1', 'n2', 'n4'],
          outgoingVoters: ['n1', 'n2', 'n3'],
          learners: ['n5'],
          addresses: { n1: 'a:1', n2: 'b:2', n3: 'c:3', n4: 'd:4', n5: 'ëxotic:5' },
        };
        const entries: Entry[] = [
          { kind: 'command', index: 1, term: 1, data: new Uint8Array([0, 255, 1, 254]) },
          { kind: 'command', index: 2, term: 1, data: new Uint8Array(0) },
          { kind: 'noop', index: 3, term: 2 },
          { kind: 'configuration', index: 4, term: 2, configuration: joint },
          { kind: 'configuration', index: 5, term: 2, configuration: configurationOf([]) },
          { kind: 'settings', index: 6, term: 3, settings: { preVote: false, checkQuorum: true } },
          { kind: 'settings', index: 7, term: 3, settings: { preVote: true, checkQuorum: false } },
        ];
        await session.storage.save({ entries });
        expect(await session.storage.entries(1, 8)).toEqual(entries);
        await session.reopen();
        const readBack = await session.storage.entries(1, 8);
        expect(readBack).toEqual(entries);
        const first = readBack[0];
        expect(first?.kind === 'command' && first.data.constructor).toBe(Uint8Array);
        const snapshot = {
          ...marker(3, 2, joint),
          settings: { preVote: false, checkQuorum: false },
        };
        await session.storage.compact(snapshot);
        expect((await session.reopen())?.snapshot).toEqual(snapshot);
      }));

    it('leaves the entries it is given unchanged: the core keeps the same objects', () =>
      withBootstrapped(async ({ storage }) => {
        const configuration: Configuration = {
          ...configurationOf(['n1', 'n2']),
          addresses: { n1: 'a:1' },
        };
        const given: Entry[] = [
          { kind: 'command', index: 1, term: 1, data: encoder.encode('original') },
          { kind: 'configuration', index: 2, term: 1, configuration },
        ];
        const before = structuredClone(given);
        await storage.save({ entries: given });
        await storage.entries(1, 3);
        expect(given).toEqual(before);
        expect(given[0]?.kind === 'command' && given[0].data.constructor).toBe(Uint8Array);
      }));

    it('returns copies from entries, so a reader cannot change stored state', () =>
      withBootstrapped(async ({ storage }) => {
        const voters = ['n1'];
        await storage.save({
          entries: [
            { kind: 'command', index: 1, term: 1, data: encoder.encode('original') },
            { kind: 'configuration', index: 2, term: 1, configuration: configurationOf(voters) },
          ],
        });
        const [command1, change] = await storage.entries(1, 3);
        if (command1?.kind === 'command') command1.data.fill(0);
        if (change?.kind === 'configuration') (change.configuration.voters as string[]).push('x');
        expect(await storage.entries(1, 3)).toEqual([
          command(1, 1, 'original'),
          { kind: 'configuration', index: 2, term: 1, configuration: configurationOf(['n1']) },
        ]);
      }));
  });
}

function registerInvalidCallTests(withBootstrapped: SessionRunner): void {
  describe('invalid calls are rejected with INVARIANT and change nothing', () => {
    it('rejects non-consecutive entries, a gap, and entries at or below the snapshot', () =>
      withBootstrapped(async (session) => {
        const { storage } = session;
        await storage.save({ entries: commands(1, 5, 1) });
        await storage.compact(marker(2, 1));
        await expectInvariant(storage.save({ entries: [command(6, 1), command(8, 1)] }));
        await expectInvariant(storage.save({ entries: [command(6, 1), command(6, 1)] }));
        await expectInvariant(storage.save({ entries: [command(7, 1)] }));
        await expectInvariant(storage.save({ entries: [command(2, 1)] }));
        await expectInvariant(
          storage.save({
            entries: [command(6, 1)],
            hardState: { term: -1, vote: null, commit: 0 },
          }),
        );
        expect(await storage.entries(3, 6)).toEqual(commands(3, 5, 1));
        await storage.save({ entries: [command(6, 1)] });
        expect(await session.reopen()).toMatchObject({ lastIndex: 6, hardState: initialHardState });
      }));

    it('rejects entries() ranges outside the stored log', () =>
      withBootstrapped(async ({ storage }) => {
        await storage.save({ entries: commands(1, 5, 1) });
        await storage.compact(marker(2, 1));
        await expectInvariant(storage.entries(2, 4));
        await expectInvariant(storage.entries(3, 7));
        await expectInvariant(storage.entries(5, 4));
        await expectInvariant(storage.entries(0, 1));
        expect(await storage.entries(3, 6)).toEqual(commands(3, 5, 1));
      }));
  });
}
