import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapSnapshot, configurationOf } from '../../core/index.js';
import type { StopClock } from '../clean-stop-record.js';
import { cleanStopFileName } from './clean-stop.js';
import { FileStorage } from './file-storage.js';

const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0)) {
    rmSync(directory, { recursive: true, force: true });
  }
});

/** A clock the test moves by hand, on a boot the test names. */
function testClock(bootId = 'boot-1'): StopClock & { nowMs: number } {
  return {
    bootId,
    nowMs: 1_000_000,
    monotonicMs() {
      return this.nowMs;
    },
  };
}

/** A bootstrapped directory whose storage recorded a clean stop at `clock`'s time, then closed. */
async function closedDirectory(clock: StopClock): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-clean-stop-'));
  directories.push(directory);
  const storage = new FileStorage({ directory, stopClock: clock });
  await storage.open();
  await storage.bootstrap(bootstrapSnapshot(configurationOf(['a', 'b', 'c'])), {
    term: 2,
    vote: null,
    commit: 0,
  });
  await storage.recordCleanStop();
  await storage.close();
  return directory;
}

async function reopen(directory: string, clock: StopClock) {
  const storage = new FileStorage({ directory, stopClock: clock });
  try {
    return { first: await storage.open(), second: await storage.open() };
  } finally {
    await storage.recordCleanStop();
    await storage.close();
  }
}

describe('FileStorage clean-stop record', () => {
  it('reports how long ago the previous holder closed, to the first open only', async () => {
    const clock = testClock();
    const directory = await closedDirectory(clock);
    expect(existsSync(join(directory, cleanStopFileName))).toBe(true);
    clock.nowMs += 3_500;
    const { first, second } = await reopen(directory, clock);
    expect(first?.closedForMs).toBe(3_500);
    expect(second).not.toHaveProperty('closedForMs');
  });

  it('forgets the record as it opens, so a crash afterwards reports nothing', async () => {
    const clock = testClock();
    const directory = await closedDirectory(clock);
    const storage = new FileStorage({ directory, stopClock: clock });
    await storage.open();
    // This holder may acknowledge anything from now on: the old record must not speak for it.
    expect(existsSync(join(directory, cleanStopFileName))).toBe(false);
    await storage.close();
  });

  it('believes no record from another boot, and removes it', async () => {
    const directory = await closedDirectory(testClock('boot-1'));
    const { first } = await reopen(directory, testClock('boot-2'));
    expect(first).not.toHaveProperty('closedForMs');
    // What is there now is the record of the close that just happened, on the new boot.
    expect(readFileSync(join(directory, cleanStopFileName), 'utf8')).toMatch(/^boot-2 /);
  });

  it('believes no record that is torn, garbled, oversized or from the future', async () => {
    const clock = testClock();
    const directory = await closedDirectory(clock);
    const path = join(directory, cleanStopFileName);
    const oversized = `boot-1 ${clock.nowMs}\n`.padStart(4096, '0');
    const texts = ['', 'boot-1 12', 'boot-1 twelve\n', `boot-1 ${clock.nowMs + 1}\n`, oversized];
    for (const text of texts) {
      writeFileSync(path, text);
      const { first } = await reopen(directory, clock);
      expect(first).not.toHaveProperty('closedForMs');
    }
  });

  it('records nothing on a close alone: whoever closed it may still be sending', async () => {
    const clock = testClock();
    const directory = await closedDirectory(clock);
    const storage = new FileStorage({ directory, stopClock: clock });
    await storage.open();
    await storage.close();
    expect(existsSync(join(directory, cleanStopFileName))).toBe(false);
    const { first } = await reopen(directory, clock);
    expect(first).not.toHaveProperty('closedForMs');
  });

  it('forgets a record it read but could not report, when the directory was empty', async () => {
    const clock = testClock();
    const directory = mkdtempSync(join(tmpdir(), 'raftkit-clean-stop-'));
    directories.push(directory);
    writeFileSync(join(directory, cleanStopFileName), `${clock.bootId} ${clock.nowMs}\n`);
    const storage = new FileStorage({ directory, stopClock: clock });
    expect(await storage.open()).toBeNull();
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
    const directory = await closedDirectory(testClock(''));
    expect(existsSync(join(directory, cleanStopFileName))).toBe(false);
  });
});
