// Crash at every step of taking and of installing a snapshot, on the simulator's disk (writes are
// durable only once synced; a crash loses what was not, or keeps part of it). After each crash
// the node restarts on what its disk kept: it must start (the previous snapshot and log are
// usable), never restore a half-written snapshot, and catch up to the same state as the leader,
// with every safety checker quiet throughout.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../core/types.js';
import type { LogStorage } from '../../storage/log-storage.js';
import { formatTraceTable } from '../trace/format-trace-table.js';
import {
  KeyValueStateMachine,
  encodeKeyValueCommand,
  type KeyValueCommand,
} from './key-value-state-machine.js';
import { SimCluster } from './sim-cluster.js';

/** One place in a snapshot's storage calls where the process can die. */
interface CrashPoint {
  /** `create`, `write 2`, `publish`, `compact`… */
  readonly call: string;
  /** Before the call is made, right after it is issued (not yet synced), or once it resolved. */
  readonly moment: 'before' | 'issued' | 'done';
  /** For `issued`: whether the unsynced write reaches the disk anyway. */
  readonly keepUnsynced: boolean;
}

const describePoint = (point: CrashPoint): string =>
  `${point.moment} ${point.call}${point.moment === 'issued' ? (point.keepUnsynced ? ' (kept)' : ' (lost)') : ''}`;

/**
 * Wraps the target node's storage to number the storage calls of its first snapshot (taken or
 * received), up to the compaction that follows it, and to crash the process at `crashAt`.
 */
class SnapshotCallWatch {
  readonly calls: string[] = [];
  crashAt: CrashPoint | null = null;
  crashed = false;
  #finished = false;
  readonly #crash: (keepUnsynced: boolean) => void;

  constructor(crash: (keepUnsynced: boolean) => void) {
    this.#crash = crash;
  }

  /** Whether the first snapshot's compaction completed: later calls are not watched. */
  get finished(): boolean {
    return this.#finished;
  }

  /** `watching` tells, at each call, whether the storage is the target's (chosen after start). */
  wrap(storage: LogStorage, watching: () => boolean): LogStorage {
    const watched = <T>(call: string, run: () => Promise<T>): Promise<T> =>
      watching() ? this.#around(call, run) : run();
    return {
      open: () => storage.open(),
      bootstrap: (snapshot, hardState) => storage.bootstrap(snapshot, hardState),
      save: (batch) => storage.save(batch),
      entries: (from, to) => storage.entries(from, to),
      latestSnapshot: () => storage.latestSnapshot(),
      readSnapshot: (index, offset, bytesMax) => storage.readSnapshot(index, offset, bytesMax),
      setBroken: (reason) => storage.setBroken(reason),
      close: () => storage.close(),
      compact: (snapshot) =>
        watched('compact', () => storage.compact(snapshot)).finally(() => {
          if (watching()) this.#finished = true;
        }),
      createSnapshot: async (meta) => {
        const writer = await watched('create', () => storage.createSnapshot(meta));
        let writes = 0;
        return {
          write: (chunk) => watched(`write ${++writes}`, () => writer.write(chunk)),
          publish: (checksum) => watched('publish', () => writer.publish(checksum)),
          abort: () => writer.abort(),
        };
      },
    };
  }

  async #around<T>(call: string, run: () => Promise<T>): Promise<T> {
    if (this.#finished || this.crashed) return run();
    this.calls.push(call);
    const point = this.crashAt;
    const here = point !== null && point.call === call;
    if (here && point.moment === 'before') this.#crashNow(false);
    const result = run();
    if (here && point.moment === 'issued') this.#crashNow(point.keepUnsynced);
    const value = await result;
    if (here && point.moment === 'done') this.#crashNow(false);
    return value;
  }

  #crashNow(keepUnsynced: boolean): void {
    this.crashed = true;
    this.#crash(keepUnsynced);
  }
}

const put = (key: string, value: string): Uint8Array =>
  encodeKeyValueCommand({ kind: 'put', key, value } satisfies KeyValueCommand);

interface Scenario {
  /** Whether the target falls behind first, so its first snapshot is one the leader sends. */
  readonly install: boolean;
  readonly crashAt: CrashPoint | null;
}

/** Runs one scenario; returns the target's numbered calls and the cluster, converged. */
async function runScenario(scenario: Scenario) {
  let target: NodeId = '';
  let cluster: SimCluster<unknown, string, string> | null = null;
  const watch = new SnapshotCallWatch((keepUnsynced) =>
    cluster!.crash(target, { pendingStepsKept: keepUnsynced ? Number.MAX_SAFE_INTEGER : 0 }),
  );
  cluster = new SimCluster<unknown, string, string>({
    seed: 5,
    stateMachine: () => new KeyValueStateMachine(),
    // Small chunks, so a snapshot of a few dozen keys is written and sent in several.
    nodeOptions: () => ({ snapshots: { entriesMax: 12, trailingEntries: 0, chunkBytes: 200 } }),
    wrapStorage: (storage, nodeId) => watch.wrap(storage, () => nodeId === target),
  });
  await cluster.start();
  await cluster.runUntil(() => cluster.leader() !== null);
  target = cluster.ids.find((id) => id !== cluster.leader()!.id)!;
  watch.crashAt = scenario.crashAt;
  if (scenario.install) cluster.crash(target);
  let writes = 0;
  const write = async () => {
    const key = `key-${writes % 17}`;
    // Values long enough that the state takes several snapshot chunks.
    const value = `${key}=${writes++}`.padEnd(48, '.');
    await cluster.settle(cluster.leader()!.propose(put(key, value)));
  };
  for (let round = 0; round < 30; round++) await write();
  if (scenario.install) cluster.restart(target);
  await cluster.runUntil(() => watch.crashed || watch.finished, {
    timeMsMax: 20_000,
  });
  if (watch.crashed) {
    // The process is gone; a new one starts on whatever its disk kept.
    cluster.restart(target);
  }
  for (let round = 0; round < 15; round++) await write();
  const leaderId = cluster.leader()!.id;
  const machineOf = (id: NodeId) => cluster.stateMachine(id) as KeyValueStateMachine;
  await cluster
    .runUntil(
      () =>
        cluster.isUp(target) &&
        cluster.node(target).status().appliedIndex === cluster.node(leaderId).status().commitIndex,
      { timeMsMax: 20_000 },
    )
    .catch((error: unknown) => {
      throw Object.assign(error as Error, { cluster });
    });
  return {
    cluster,
    watch,
    target,
    state: machineOf(target).entries(),
    leaderState: machineOf(leaderId).entries(),
  };
}

/**
 * Every crash point of the calls a scenario without crash made. Only publish and compact leave
 * a write waiting for its sync (snapshot data is written directly), so only they have an
 * "issued" moment, in which the unsynced write is lost or reaches the disk anyway.
 */
function crashPointsOf(calls: readonly string[]): CrashPoint[] {
  return calls.flatMap((call): CrashPoint[] => [
    { call, moment: 'before', keepUnsynced: false },
    ...(call === 'publish' || call === 'compact'
      ? [
          { call, moment: 'issued', keepUnsynced: false } as const,
          { call, moment: 'issued', keepUnsynced: true } as const,
        ]
      : []),
    { call, moment: 'done', keepUnsynced: false },
  ]);
}

async function expectSurvivesEveryCrashPoint(install: boolean): Promise<void> {
  const dry = await runScenario({ install, crashAt: null });
  expect(dry.watch.calls[0]).toBe('create');
  expect(dry.watch.calls).toContain('publish');
  expect(dry.watch.calls.at(-1)).toBe('compact');
  expect(dry.watch.calls.filter((call) => call.startsWith('write')).length).toBeGreaterThan(1);
  for (const crashAt of crashPointsOf(dry.watch.calls)) {
    const run = await runScenario({ install, crashAt }).catch((error: unknown) => {
      const cluster = (error as { cluster?: SimCluster<unknown, string, string> }).cluster;
      const trace = cluster === undefined ? '' : formatTraceTable(cluster.tracer!.last(60));
      throw new Error(`crash ${describePoint(crashAt)}: ${String(error)}\n${trace}`, {
        cause: error,
      });
    });
    const explain = `crash ${describePoint(crashAt)}\n${formatTraceTable(run.cluster.tracer!.last(40))}`;
    expect(run.watch.crashed, explain).toBe(true);
    expect(run.cluster.checkers.violations, explain).toEqual([]);
    expect(run.state, explain).toEqual(run.leaderState);
  }
}

describe('a crash at every step of a snapshot, on the simulated disk', () => {
  it('while taking one: the previous state and log stay usable and the node catches up', async () => {
    await expectSurvivesEveryCrashPoint(false);
  });

  it('while installing one from the leader: the partial copy is discarded, never restored', async () => {
    await expectSurvivesEveryCrashPoint(true);
  });
});
