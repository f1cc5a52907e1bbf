import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { workloadData, workloadSegmentBytesMax } from './crash-workload.test-helpers.js';
import { FileStorage } from './file-storage.js';

/** How many times the writer is killed. */
const killCount = 8;
/** Longest a child may take to start before the test gives up on it. */
const startTimeoutMs = 15_000;
const childScript = new URL('./file-crash-child.test-helpers.ts', import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), 'raftkit-file-crash-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A small seeded generator, so the kill moments are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** What the writer was told is durable: the log it acknowledged, and what was in flight. */
class AcknowledgedLog {
  readonly terms = new Map<number, number>();
  lastIndex = 0;
  snapshotIndex = 0;
  /** First index of a save that began and was not acknowledged before the kill. */
  inFlightFirst: number | null = null;

  /** Applies one line of the writer's output. */
  record(line: string): void {
    const [word, ...numbers] = line.split(' ');
    const [first = 0, last = 0, term = 0] = numbers.map(Number);
    if (word === 'begin') this.inFlightFirst = first;
    if (word === 'compacted') this.snapshotIndex = first;
    if (word !== 'ack') return;
    for (let index = first; index <= this.lastIndex; index++) this.terms.delete(index);
    for (let index = first; index <= last; index++) this.terms.set(index, term);
    this.lastIndex = last;
    this.inFlightFirst = null;
  }

  /** The highest index every entry up to which must have survived as acknowledged. */
  get guaranteedIndex(): number {
    const inFlight = this.inFlightFirst;
    return inFlight !== null && inFlight <= this.lastIndex ? inFlight - 1 : this.lastIndex;
  }
}

/** Starts the writer, lets it work for `runMs` after it is ready, then SIGKILLs it. */
async function runAndKill(
  log: AcknowledgedLog,
  options: { runMs: number; whileRunning?: (() => Promise<void>) | undefined },
): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--conditions=raftkit-source', '--import', 'tsx', childScript, directory],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const outputDone = new Promise<void>((resolve) => lines.once('close', () => resolve()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child did not start: ${errors}`)),
      startTimeoutMs,
    );
    lines.on('line', (line) => {
      if (line.startsWith('ready')) {
        clearTimeout(timer);
        resolve();
      } else {
        log.record(line);
      }
    });
    child.once('exit', () => reject(new Error(`child exited early: ${errors}`)));
  });
  try {
    await ready;
    await options.whileRunning?.();
    await new Promise((resolve) => setTimeout(resolve, options.runMs));
  } finally {
    child.kill('SIGKILL');
    await exited;
    await outputDone;
  }
}

/** Reopens the directory and checks it against what was acknowledged; returns the log found. */
async function checkRecovered(log: AcknowledgedLog): Promise<void> {
  const storage = new FileStorage({ directory, segmentBytesMax: workloadSegmentBytesMax });
  try {
    const state = await storage.open();
    expect(state).not.toBeNull();
    const snapshotIndex = state?.snapshot.index ?? 0;
    const lastIndex = state?.lastIndex ?? 0;
    expect(snapshotIndex).toBeGreaterThanOrEqual(log.snapshotIndex);
    expect(lastIndex).toBeGreaterThanOrEqual(log.guaranteedIndex);
    const entries = await storage.entries(snapshotIndex + 1, lastIndex + 1);
    let previousTerm = 0;
    entries.forEach((entry, position) => {
      expect(entry.index).toBe(snapshotIndex + 1 + position);
      expect(entry.term).toBeGreaterThanOrEqual(previousTerm);
      previousTerm = entry.term;
      if (entry.kind !== 'command') throw new Error(`entry ${entry.index} is a ${entry.kind}`);
      expect(Buffer.compare(entry.data, workloadData(entry.index, entry.term))).toBe(0);
      if (entry.index <= log.guaranteedIndex) expect(entry.term).toBe(log.terms.get(entry.index));
    });
    // What survived is now the acknowledged state the next writer continues from.
    log.terms.clear();
    for (const entry of entries) log.terms.set(entry.index, entry.term);
    log.lastIndex = lastIndex;
    log.snapshotIndex = snapshotIndex;
    log.inFlightFirst = null;
  } finally {
    await storage.close();
  }
}

describe('FileStorage under SIGKILL', () => {
  it('keeps every acknowledged entry intact and the log consistent across many kills', async () => {
    const random = seededRandom(4242);
    const log = new AcknowledgedLog();
    let inFlightAtKill = 0;
    for (let kill = 0; kill < killCount; kill++) {
      await runAndKill(log, {
        runMs: 20 + Math.floor(random() * 200),
        // While a process holds the directory, no other process may open it.
        whileRunning:
          kill === 0
            ? () =>
                expect(new FileStorage({ directory }).open()).rejects.toMatchObject({
                  code: 'LOCKED',
                })
            : undefined,
      });
      inFlightAtKill += log.inFlightFirst === null ? 0 : 1;
      await checkRecovered(log);
    }
    // Most kills land while a save is in flight: the writer spends its time in fdatasync.
    expect(inFlightAtKill).toBeGreaterThan(0);
    // The writer made real progress, so the kills landed in the middle of its work.
    expect(log.lastIndex).toBeGreaterThan(killCount * 20);
    expect(log.snapshotIndex).toBeGreaterThan(0);
  });
});
