import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// Seeded, so the kill moments are the same on every run.
import { seededRandom } from '../../core/index.js';
import { CrashWriter } from '../crash-writer.test-helpers.js';
import { workloadData, workloadSegmentBytesMax } from './crash-workload.test-helpers.js';
import { FileStorage } from './file-storage.js';

/** How many times the writer is killed. */
const killCount = 6;
/**
 * Generous, because on a loaded machine each writer takes seconds to start; on an idle one the
 * test takes a few seconds.
 */
const crashTestTimeoutMs = 120_000;
const childScript = new URL('./file-crash-child.test-helpers.ts', import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), 'raftkit-file-crash-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** What the writer was told is durable: the log it acknowledged, and what was in flight. */
class AcknowledgedLog {
  readonly terms = new Map<number, number>();
  lastIndex = 0;
  snapshotIndex = 0;
  /** First index of a save that began and was not acknowledged before the kill. */
  inFlightFirst: number | null = null;
  /** Saves acknowledged so far, by every writer. */
  acknowledgements = 0;

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
    this.acknowledgements++;
  }

  /** The highest index every entry up to which must have survived as acknowledged. */
  get guaranteedIndex(): number {
    const inFlight = this.inFlightFirst;
    return inFlight !== null && inFlight <= this.lastIndex ? inFlight - 1 : this.lastIndex;
  }
}

/**
 * Saves each writer must acknowledge before it may be killed: enough to pass its first compaction
 * (every 17th round), so the kills exercise compaction however slow the machine is.
 */
const acknowledgementsBeforeKill = 20;
const progressWaitMsMax = 60_000;

/** Waits (bounded) until the writers together have acknowledged `count` saves. */
async function waitForAcknowledgements(log: AcknowledgedLog, count: number): Promise<void> {
  const deadline = Date.now() + progressWaitMsMax;
  while (log.acknowledgements < count) {
    if (Date.now() > deadline)
      throw new Error(`writer made no progress in ${progressWaitMsMax} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
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
  it(
    'keeps every acknowledged entry intact and the log consistent across many kills',
    async () => {
      const random = seededRandom(4242);
      const log = new AcknowledgedLog();
      let inFlightAtKill = 0;
      const startWriter = () =>
        new CrashWriter(childScript, [directory], (line) => log.record(line));
      let next = startWriter();
      try {
        for (let kill = 0; kill < killCount; kill++) {
          const writer = next;
          await writer.go();
          next = startWriter();
          if (kill === 0) {
            // While a process holds the directory, no other process may open it.
            await expect(new FileStorage({ directory }).open()).rejects.toMatchObject({
              code: 'LOCKED',
            });
          }
          // Progress first, then a seeded random moment: the kill lands mid-work on any machine.
          await waitForAcknowledgements(log, log.acknowledgements + acknowledgementsBeforeKill);
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 100)));
          await writer.kill();
          inFlightAtKill += log.inFlightFirst === null ? 0 : 1;
          await checkRecovered(log);
        }
      } finally {
        await next.kill();
      }
      // Most kills land while a save is in flight: the writer spends its time in fdatasync.
      expect(inFlightAtKill).toBeGreaterThan(0);
      // The writer made real progress, so the kills landed in the middle of its work.
      expect(log.lastIndex).toBeGreaterThan(killCount * 20);
      expect(log.snapshotIndex).toBeGreaterThan(0);
    },
    crashTestTimeoutMs,
  );
});
