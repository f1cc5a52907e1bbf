import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedTable, workloadCommandBytes } from './crash-workload.test-helpers.js';
import { SqliteKeyValueStore } from './sqlite-key-value-store.js';
import { SqliteStorage } from './sqlite-storage.js';

/** How many times the writer is killed. */
const killCount = 6;
/** Longest a child may take to start before the test gives up on it. */
const startTimeoutMs = 15_000;
const childScript = new URL('./sqlite-crash-child.test-helpers.ts', import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), 'raftkit-sqlite-crash-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A small seeded generator, so the kill moments are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** Starts the writer, waits until it is running, lets it work for `runMs`, then SIGKILLs it. */
async function runAndKill(path: string, runMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--conditions=raftkit-source', '--import', 'tsx', childScript, path],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child did not start: ${errors}`)),
      startTimeoutMs,
    );
    createInterface({ input: child.stdout }).once('line', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', () => reject(new Error(`child exited early: ${errors}`)));
  });
  try {
    await ready;
    await new Promise((resolve) => setTimeout(resolve, runMs));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

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
  it('keeps the table and the applied index in agreement after every kill', async () => {
    const path = join(directory, 'crash.db');
    const random = seededRandom(20261123);
    let previous = { lastIndex: 0, applied: 0 };
    for (let kill = 0; kill < killCount; kill++) {
      await runAndKill(path, 40 + Math.floor(random() * 200));
      const now = await checkAgreement(path);
      expect(now.lastIndex).toBeGreaterThanOrEqual(previous.lastIndex);
      expect(now.applied).toBeGreaterThanOrEqual(previous.applied);
      previous = now;
    }
    // The workload made progress, so the kills landed while it was writing.
    expect(previous.applied).toBeGreaterThan(killCount * 10);
  });
});
