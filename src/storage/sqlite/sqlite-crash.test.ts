import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// Seeded, so the kill moments are the same on every run.
import { seededRandom } from '../../core/index.js';
import { CrashWriter } from '../crash-writer.test-helpers.js';
import { expectedTable, workloadCommandBytes } from './crash-workload.test-helpers.js';
import { SqliteKeyValueStore } from './sqlite-key-value-store.js';
import { SqliteStorage } from './sqlite-storage.js';

/** How many times the writer is killed. */
const killCount = 5;
/**
 * Generous, because on a loaded machine each writer takes seconds to start; on an idle one the
 * test takes a few seconds.
 */
const crashTestTimeoutMs = 120_000;
/** Entries each writer must apply before it may be killed. */
const appliedBeforeKill = 12;
const progressWaitMsMax = 60_000;
const childScript = new URL('./sqlite-crash-child.test-helpers.ts', import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), 'raftkit-sqlite-crash-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function checkAgreement(path: string): Promise<{ lastIndex: number; applied: number }> {
  const storage = new SqliteStorage({ path });
  try {
    const state = await storage.open();
    const lastIndex = state?.lastIndex ?? 0;
    const store = new SqliteKeyValueStore(storage);
    store.open();
    const applied = store.appliedIndex();
    expect(applied).toBeLessThanOrEqual(lastIndex);
    expect(store.entries()).toEqual(expectedTable(applied));
    const entries = await storage.entries(1, lastIndex + 1);
    entries.forEach((entry, position) => {
      expect(entry.index).toBe(position + 1);
      expect(entry.kind === 'command' && Buffer.from(entry.data).toString()).toBe(
        Buffer.from(workloadCommandBytes(position + 1)).toString(),
      );
    });
    return { lastIndex, applied };
  } finally {
    await storage.close();
  }
}

describe('SqliteStorage with a state machine in the same database, under SIGKILL', () => {
  it(
    'keeps the table and the applied index in agreement after every kill',
    async () => {
      const path = join(directory, 'crash.db');
      const random = seededRandom(20261123);
      let previous = { lastIndex: 0, applied: 0 };
      let reportedApplied = 0;
      const startWriter = () =>
        new CrashWriter(childScript, [path], (line) => {
          const applied = /^applied (\d+)$/.exec(line)?.[1];
          if (applied !== undefined) reportedApplied = Math.max(reportedApplied, Number(applied));
        });
      const waitForProgress = async (target: number): Promise<void> => {
        const deadline = Date.now() + progressWaitMsMax;
        while (reportedApplied < target) {
          if (Date.now() > deadline)
            throw new Error(`writer made no progress in ${progressWaitMsMax} ms`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      let next = startWriter();
      try {
        for (let kill = 0; kill < killCount; kill++) {
          const writer = next;
          await writer.go();
          next = startWriter();
          // Progress first, then a seeded random moment: the kill lands mid-work on any machine.
          await waitForProgress(previous.applied + appliedBeforeKill);
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 100)));
          await writer.kill();
          const now = await checkAgreement(path);
          expect(now.lastIndex).toBeGreaterThanOrEqual(previous.lastIndex);
          expect(now.applied).toBeGreaterThanOrEqual(previous.applied);
          previous = now;
          // What the killed writer reported beyond what survived does not count for the next.
          reportedApplied = now.applied;
        }
      } finally {
        await next.kill();
      }
      // The workload made progress, so the kills landed while it was writing.
      expect(previous.applied).toBeGreaterThanOrEqual(killCount * appliedBeforeKill);
    },
    crashTestTimeoutMs,
  );
});
