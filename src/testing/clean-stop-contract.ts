import { describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../core/index.js';
import type { LogStorage, StoredState } from '../storage/log-storage.js';

/** The part of a contract session the clean-stop tests use. */
export interface CleanStopSession {
  readonly storage: LogStorage;
  /** Closes the storage and opens it again, returning what `open` reported, unchecked. */
  reopenAsIs(): Promise<StoredState | null>;
  /** Crashes the storage and opens what survived; fails if that open reports a clean stop. */
  crash(): Promise<StoredState | null>;
}

type Runner = (test: (session: CleanStopSession) => Promise<void>) => Promise<void>;

/**
 * How long the suite lets pass between a clean stop and the next open: long enough that a storage
 * reporting no time at all, or a clock of the wrong unit, cannot pass by rounding.
 */
const stoppedForMs = 20;

const hardState: HardState = { term: 3, vote: 'n2', commit: 2 };

function noops(from: number, to: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= to; index++) entries.push({ kind: 'noop', index, term });
  return entries;
}

/**
 * Whether the storage under test reports clean stops: by default, whether it implements
 * `recordCleanStop`. An adapter that records them only on some machines says so with the
 * contract's `recordsCleanStops` option.
 */
function recordsCleanStops(storage: LogStorage, declared: boolean | undefined): boolean {
  return declared ?? typeof storage.recordCleanStop === 'function';
}

/**
 * The clean-stop record (`recordCleanStop`, `StoredState.closedForMs`): what a storage that
 * records stops must report, and what no storage may report. The node counts the reported time
 * as silence before it votes, so a duration longer than the real one, or one reported after a
 * crash, would let it vote while an old promise may still stand.
 */
export function registerCleanStopTests(
  withBootstrapped: Runner,
  options: { readonly crashes: boolean; readonly recordsCleanStops: boolean | undefined },
): void {
  describe('the clean-stop record', () => {
    it('reports how long ago the storage stopped cleanly, to the next open only', () =>
      withBootstrapped(async (session) => {
        const records = recordsCleanStops(session.storage, options.recordsCleanStops);
        await session.storage.save({ entries: noops(1, 3, 1), hardState });
        const stopping = performance.now();
        await session.storage.recordCleanStop?.();
        const stopped = performance.now();
        await new Promise((resolve) => setTimeout(resolve, stoppedForMs));
        const opening = performance.now();
        const reopened = await session.reopenAsIs();
        const opened = performance.now();
        expect(reopened).toMatchObject({ hardState, lastIndex: 3 });
        if (records) {
          // Clocks read in whole milliseconds: 1 ms either way is rounding, not time.
          expect(reopened?.closedForMs).toBeGreaterThanOrEqual(opening - stopped - 1);
          expect(reopened?.closedForMs).toBeLessThanOrEqual(opened - stopping + 1);
        } else {
          expect(reopened).not.toHaveProperty('closedForMs');
        }
        // The record spoke for the holder before this one; this one stopped without one.
        expect(await session.reopenAsIs()).not.toHaveProperty('closedForMs');
      }));

    it('reports no stop after a close alone: whoever closed it may still have been sending', () =>
      withBootstrapped(async (session) => {
        await session.storage.save({ entries: noops(1, 2, 1) });
        const reopened = await session.reopenAsIs();
        expect(reopened).toMatchObject({ lastIndex: 2 });
        expect(reopened).not.toHaveProperty('closedForMs');
      }));

    if (options.crashes) {
      it('reports no stop after a crash that followed an open which read one', () =>
        withBootstrapped(async (session) => {
          await session.storage.recordCleanStop?.();
          await session.reopenAsIs();
          await session.storage.save({ entries: noops(1, 4, 2), hardState });
          expect(await session.crash()).toMatchObject({ hardState, lastIndex: 4 });
        }));
    }
  });
}
