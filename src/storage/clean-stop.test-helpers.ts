import { describe, expect, it } from 'vitest';
import { bootstrapSnapshot, configurationOf } from '../core/index.js';
import type { StopClock } from './clean-stop-record.js';
import type { LogStorage } from './log-storage.js';

/** A clock the test moves by hand, on a boot the test names. */
export function testStopClock(bootId = 'boot-1'): StopClock & { nowMs: number } {
  return {
    bootId,
    nowMs: 1_000_000,
    monotonicMs() {
      return this.nowMs;
    },
  };
}

/** How the shared clean-stop tests reach one adapter and the medium it keeps its record in. */
export interface CleanStopMedium {
  /** A fresh, empty medium (a directory, a database file); returns where it is. */
  create(): string;
  /** A storage over the medium at `location` that records stops against `clock`, not opened. */
  storage(location: string, clock: StopClock): LogStorage;
  /** The record as the medium holds it, or `null` when it holds none. */
  storedRecord(location: string): string | null;
  /** Stores `record` as it is, as a previous holder, a torn write or a hand edit left it. */
  storeRecord(location: string, record: string): void;
}

/**
 * The clean-stop record's rules (docs/storage.md), which every built-in adapter keeps the same
 * way: believed only on the boot that wrote it and only if well formed and not from the future,
 * forgotten by the open that finds it whatever it says, and never written by a close alone.
 */
export function cleanStopRecordTests(name: string, medium: CleanStopMedium): void {
  /** A bootstrapped medium whose storage recorded a clean stop at `clock`'s time, then closed. */
  async function closedMedium(clock: StopClock): Promise<string> {
    const location = medium.create();
    const storage = medium.storage(location, clock);
    await storage.open();
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['a', 'b', 'c'])), {
      term: 2,
      vote: null,
      commit: 0,
    });
    await storage.recordCleanStop?.();
    await storage.close();
    return location;
  }

  async function reopen(location: string, clock: StopClock) {
    const storage = medium.storage(location, clock);
    try {
      return { first: await storage.open(), second: await storage.open() };
    } finally {
      await storage.recordCleanStop?.();
      await storage.close();
    }
  }

  describe(`${name} clean-stop record`, () => {
    it('reports how long ago the previous holder closed, to the first open only', async () => {
      const clock = testStopClock();
      const location = await closedMedium(clock);
      expect(medium.storedRecord(location)).toBe('boot-1 1000000\n');
      clock.nowMs += 3_500;
      const { first, second } = await reopen(location, clock);
      expect(first?.closedForMs).toBe(3_500);
      expect(second).not.toHaveProperty('closedForMs');
    });

    it('forgets the record as it opens, so a crash afterwards reports nothing', async () => {
      const clock = testStopClock();
      const location = await closedMedium(clock);
      const storage = medium.storage(location, clock);
      expect(await storage.open()).toHaveProperty('closedForMs', 0);
      // This holder may acknowledge anything from now on: the old record must not speak for it.
      expect(medium.storedRecord(location)).toBeNull();
      // A crash: the holder goes away without recording a stop.
      await storage.close();
      clock.nowMs += 10;
      expect((await reopen(location, clock)).first).not.toHaveProperty('closedForMs');
    });

    it('believes no record from another boot, and removes it', async () => {
      const location = await closedMedium(testStopClock('boot-1'));
      const { first } = await reopen(location, testStopClock('boot-2'));
      expect(first).not.toHaveProperty('closedForMs');
      // What is there now is the record of the close that just happened, on the new boot.
      expect(medium.storedRecord(location)).toMatch(/^boot-2 /);
    });

    it('believes no record that is torn, garbled, oversized or from the future', async () => {
      const clock = testStopClock();
      const location = await closedMedium(clock);
      const oversized = `boot-1 ${clock.nowMs}\n`.padStart(4096, '0');
      const records = [
        '',
        'boot-1 12',
        'boot-1 twelve\n',
        `boot-1 ${clock.nowMs + 1}\n`,
        oversized,
      ];
      for (const record of records) {
        medium.storeRecord(location, record);
        const { first } = await reopen(location, clock);
        expect(first).not.toHaveProperty('closedForMs');
      }
    });

    it('records nothing on a close alone: whoever closed it may still be sending', async () => {
      const clock = testStopClock();
      const location = await closedMedium(clock);
      const storage = medium.storage(location, clock);
      await storage.open();
      await storage.close();
      expect(medium.storedRecord(location)).toBeNull();
      const { first } = await reopen(location, clock);
      expect(first).not.toHaveProperty('closedForMs');
    });

    it('forgets a record it read but could not report, when the medium was empty', async () => {
      const clock = testStopClock();
      const location = medium.create();
      medium.storeRecord(location, `${clock.bootId} ${clock.nowMs}\n`);
      const storage = medium.storage(location, clock);
      expect(await storage.open()).toBeNull();
      expect(medium.storedRecord(location)).toBeNull();
      await storage.bootstrap(bootstrapSnapshot(configurationOf(['a'])), {
        term: 1,
        vote: null,
        commit: 0,
      });
      // This instance may have spoken since its first open: a second one reports nothing.
      expect(await storage.open()).not.toHaveProperty('closedForMs');
      await storage.close();
    });

    it('writes nothing when the machine cannot name its boot', async () => {
      const location = await closedMedium(testStopClock(''));
      expect(medium.storedRecord(location)).toBeNull();
    });
  });
}
