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
      const startWriter = () => new CrashWriter(childScript, [path], () => undefined);
      let next = startWriter();
      try {
        for (let kill = 0; kill < killCount; kill++) {
          const writer = next;
          await writer.go();
          next = startWriter();
          await new Promise((resolve) => setTimeout(resolve, 40 + Math.floor(random() * 200)));
          await writer.kill();
          const now = await checkAgreement(path);
          expect(now.lastIndex).toBeGreaterThanOrEqual(previous.lastIndex);
          expect(now.applied).toBeGreaterThanOrEqual(previous.applied);
          previous = now;
        }
      } finally {
        await next.kill();
      }
      // The workload made progress, so the kills landed while it was writing.
      expect(previous.applied).toBeGreaterThan(killCount * 10);
    },
    crashTestTimeoutMs,
  );
});
