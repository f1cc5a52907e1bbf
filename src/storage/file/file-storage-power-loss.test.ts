import { describe, expect, it } from 'vitest';
import {
  bootstrapSnapshot,
  configurationOf,
  type Entry,
  type HardState,
  type SnapshotMeta,
} from '../../core/index.js';
import { FileStorage } from './file-storage.js';
import { seededRandom } from '../../core/index.js';
import { PowerLossFileSystem } from './power-loss-file-system.test-helpers.js';

/** Independent runs, each from its own seed. */
const runCount = 40;
/** Power losses per run; the storage is reopened after each one and the run continues. */
const crashesPerRun = 4;
/** Calls between two power losses, at most. */
const callsPerCrashMax = 12;
/** Changes (writes, syncs, renames, removals) the in-flight call may make before power fails. */
const changesBeforeCrashMax = 12;

const baseMarker = bootstrapSnapshot(configurationOf(['a', 'b', 'c']));

function payload(index: number, term: number): Uint8Array {
  return new TextEncoder().encode(`${index}/${term}${'#'.repeat((index * 31) % 200)}`);
}

/** What was acknowledged, and the call in flight when the power failed. */
interface Model {
  terms: Map<number, number>;
  lastIndex: number;
  snapshot: SnapshotMeta;
  hardState: HardState;
}

type Call =
  | { kind: 'save'; first: number; entries: Entry[]; hardState: HardState }
  | { kind: 'compact'; snapshot: SnapshotMeta };

/** Draws the next call: mostly appends, sometimes a suffix rewrite, a compaction or a vote. */
function nextCall(model: Model, random: () => number): Call {
  const roll = random();
  // A crash may keep entries of a save whose new hard state it lost (the contract allows any
  // prefix of an unacknowledged save), so the log can end in a term above the stored one. A
  // server has seen that term, so like one it continues from the larger of the two.
  const term = Math.max(
    model.hardState.term,
    model.terms.get(model.lastIndex) ?? model.snapshot.term,
  );
  if (roll < 0.12 && model.lastIndex > model.snapshot.index) {
    const index =
      model.snapshot.index + 1 + Math.floor(random() * (model.lastIndex - model.snapshot.index));
    return {
      kind: 'compact',
      snapshot: { ...baseMarker, index, term: model.terms.get(index) ?? 0 },
    };
  }
  if (roll < 0.15) {
    const index = model.lastIndex + 1 + Math.floor(random() * 5);
    return { kind: 'compact', snapshot: { ...baseMarker, index, term } };
  }
  const rewrite = roll < 0.3 && model.lastIndex > model.snapshot.index;
  const newTerm = rewrite || roll < 0.35 ? term + 1 : term;
  const first = rewrite
    ? model.snapshot.index + 1 + Math.floor(random() * (model.lastIndex - model.snapshot.index))
    : model.lastIndex + 1;
  const count = Math.floor(random() * 30);
  const entries: Entry[] = [];
  for (let index = first; index < first + count; index++) {
    entries.push({ kind: 'command', index, term: newTerm, data: payload(index, newTerm) });
  }
  const hardState = {
    term: newTerm,
    vote: random() < 0.5 ? 'a' : null,
    commit: model.snapshot.index,
  };
  return { kind: 'save', first, entries, hardState };
}

function applyCall(model: Model, call: Call): void {
  if (call.kind === 'compact') {
    const keep =
      call.snapshot.index < model.lastIndex &&
      model.terms.get(call.snapshot.index) === call.snapshot.term;
    for (const index of [...model.terms.keys()]) {
      if (!keep || index <= call.snapshot.index) model.terms.delete(index);
    }
    model.snapshot = call.snapshot;
    if (!keep) model.lastIndex = call.snapshot.index;
    return;
  }
  for (const entry of call.entries) model.terms.set(entry.index, entry.term);
  if (call.entries.length > 0) {
    for (let index = call.first + call.entries.length; index <= model.lastIndex; index++) {
      model.terms.delete(index);
    }
    model.lastIndex = call.first + call.entries.length - 1;
  }
  model.hardState = call.hardState;
}

function runCall(storage: FileStorage, call: Call): Promise<void> {
  return call.kind === 'save'
    ? storage.save({ entries: call.entries, hardState: call.hardState })
    : storage.compact(call.snapshot);
}

/** Checks the reopened storage against the model, given the call that was in flight. */
async function checkRecovered(storage: FileStorage, model: Model, inFlight: Call): Promise<Model> {
  const state = await storage.open();
  if (state === null) throw new Error('bootstrapped storage opened empty');
  const after = structuredClone(model);
  applyCall(after, inFlight);
  expect([model.snapshot.index, after.snapshot.index]).toContain(state.snapshot.index);
  expect([model.hardState, after.hardState]).toContainEqual(state.hardState);
  const entries = await storage.entries(state.snapshot.index + 1, state.lastIndex + 1);
  let previousTerm = state.snapshot.term;
  for (const [position, entry] of entries.entries()) {
    expect(entry.index).toBe(state.snapshot.index + 1 + position);
    expect(entry.term).toBeGreaterThanOrEqual(previousTerm);
    previousTerm = entry.term;
    expect(
      entry.kind === 'command' && Buffer.compare(entry.data, payload(entry.index, entry.term)),
    ).toBe(0);
  }
  // Every acknowledged entry the in-flight call did not replace or compact away must be there.
  const replacedFrom =
    inFlight.kind === 'save' && inFlight.entries.length > 0 ? inFlight.first : Infinity;
  const dropped =
    state.snapshot.index === after.snapshot.index &&
    inFlight.kind === 'compact' &&
    after.lastIndex === after.snapshot.index;
  if (!dropped) {
    for (const [index, term] of model.terms) {
      if (index >= replacedFrom || index <= state.snapshot.index) continue;
      expect(entries[index - state.snapshot.index - 1]?.term).toBe(term);
    }
  }
  const terms = new Map(entries.map((entry) => [entry.index, entry.term]));
  return {
    terms,
    lastIndex: state.lastIndex,
    snapshot: state.snapshot,
    hardState: state.hardState,
  };
}

async function runOnce(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const directory = `/power-loss/run-${seed}`;
  let fileSystem = new PowerLossFileSystem(random);
  let storage = new FileStorage({
    directory,
    fileSystem,
    segmentBytesMax: 2048,
    cacheEntriesMax: 16,
  });
  await storage.open();
  let model: Model = {
    terms: new Map(),
    lastIndex: 0,
    snapshot: baseMarker,
    hardState: { term: 1, vote: null, commit: 0 },
  };
  await storage.bootstrap(baseMarker, model.hardState);
  for (let crash = 0; crash < crashesPerRun; crash++) {
    const calls = Math.floor(random() * callsPerCrashMax);
    for (let call = 0; call < calls; call++) {
      const next = nextCall(model, random);
      await runCall(storage, next);
      applyCall(model, next);
    }
    const inFlight = nextCall(model, random);
    fileSystem.losePowerAfter(Math.floor(random() * changesBeforeCrashMax));
    const outcome = await runCall(storage, inFlight).then(
      () => 'acknowledged',
      () => 'failed',
    );
    // A call that finished before the power failed is acknowledged: nothing was in flight.
    if (outcome === 'acknowledged') applyCall(model, inFlight);
    const unacknowledged: Call =
      outcome === 'acknowledged'
        ? { kind: 'save', first: Infinity, entries: [], hardState: model.hardState }
        : inFlight;
    fileSystem = fileSystem.crash();
    await storage.close().catch(() => undefined);
    storage = new FileStorage({
      directory,
      fileSystem,
      segmentBytesMax: 2048,
      cacheEntriesMax: 16,
    });
    model = await checkRecovered(storage, model, unacknowledged);
  }
  await storage.close();
}

describe('FileStorage after power loss at every point of a call', () => {
  it(`recovers acknowledged state in ${runCount} seeded runs of ${crashesPerRun} crashes each`, async () => {
    for (let seed = 1; seed <= runCount; seed++) {
      try {
        await runOnce(seed);
      } catch (error) {
        throw new Error(`power-loss run failed with seed ${seed}`, { cause: error });
      }
    }
  });
});
