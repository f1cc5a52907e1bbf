import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RaftError } from 'raftkit';
import { hashString, seededRandom } from 'raftkit/core';
import { checkLinearizability, keyValueModel } from 'raftkit/testing';
import { findLostWrites } from './acknowledged-writes.js';
import { ChaosCluster } from './chaos-cluster.js';
import type { ChaosOptions } from './chaos-options.js';
import { awaitConvergence, differingKeys, readAll } from './final-state.js';
import { countOperations, RunHistory, toCheckerHistory, type HistoryEntry } from './history.js';
import { Nemesis, type FaultKind } from './nemesis.js';
import { Workload } from './workload.js';

/** Operations one run records at most (a soak at the default load stays far below). */
export const historyEntriesMax = 2_000_000;
/** After healing, the workload goes on this long: the healed cluster must serve again. */
const recoveryPhaseMs = 5000;
/** How long the fresh cluster may take to elect its first leader. */
const firstLeaderTimeoutMs = 30_000;
/** Differing keys shown per pair of servers whose states differ. */
const differingKeysShownMax = 5;

/** `pass`, a violation found, or no verdict (the checker ran out of budget). */
export type ChaosVerdict = 'pass' | 'fail' | 'unknown';

/** What a run did and found; also written to `DIR/summary.json`. */
export interface ChaosReport {
  readonly seed: number;
  readonly durationS: number;
  readonly operations: {
    readonly total: number;
    readonly byKind: ReturnType<typeof countOperations>;
    /** Definitely refused by the server (no effect), left out of the history. */
    readonly refused: number;
    /** Completed after the cluster was healed: the cluster serves again. */
    readonly afterHealing: number;
  };
  readonly keys: number;
  readonly faults: Record<FaultKind, number>;
  /** Snapshots followers installed from a leader because they had fallen behind its log. */
  readonly snapshotsInstalled: number;
  readonly linearizability: { readonly result: string; readonly message: string };
  readonly violations: readonly string[];
  readonly verdict: ChaosVerdict;
  readonly elapsedS: number;
}

/**
 * Runs one chaos experiment: a real cluster, a workload, faults chosen by the seed, then healing,
 * convergence and the checks. Files go to `options.out`; the report says what was found.
 */
export async function runChaos(
  options: ChaosOptions,
  log: (line: string) => void,
): Promise<ChaosReport> {
  prepareOutput(options.out);
  const history = new RunHistory({ entriesMax: historyEntriesMax });
  const startedMs = performance.now();
  const cluster = await ChaosCluster.create({
    servers: options.servers,
    directory: options.out,
    serverArgs: [
      '--tick-ms',
      String(options.tickMs),
      // Small thresholds, so a run of a minute compacts many times and a server that was down
      // or cut off for a few seconds catches up by snapshot rather than from the log.
      '--snapshot-entries',
      String(options.snapshotEntries),
      '--snapshot-trailing',
      String(options.snapshotTrailing),
    ],
    now: () => history.now(),
  });
  const violations: string[] = [];
  const workload = new Workload({
    servers: cluster.ids.map((id) => ({ id, address: cluster.clientAddress(id) })),
    clients: options.clients,
    readModes: options.readModes,
    activeKeys: options.activeKeys,
    operationsPerKeyMax: options.operationsPerKey,
    thinkMsMean: options.thinkMs,
    requestTimeoutMs: options.requestTimeoutMs,
    random: seededRandom(hashString(`workload:${options.seed}`)),
    history,
  });
  const nemesis = new Nemesis({
    cluster,
    kinds: options.faults,
    random: seededRandom(hashString(`nemesis:${options.seed}`)),
    holdMs: options.faultHoldMs,
    gapMs: options.faultGapMs,
    now: () => history.now(),
    log: (line) => log(`${(history.now() / 1e9).toFixed(1)}s ${line}`),
  });
  let finalValues = new Map<string, string | null>();
  let afterHealing = 0;
  try {
    log(`starting ${options.servers} servers in ${options.out}`);
    await cluster.start();
    await waitForLeader(cluster);
    workload.start();
    nemesis.start();
    await sleep(options.durationS * 1000);
    await nemesis.stop();
    log('healing: network restored, paused servers resumed, stopped servers restarted');
    cluster.network.heal();
    await cluster.reviveAll();
    const healedNs = history.now();
    await sleep(recoveryPhaseMs);
    await workload.stop();
    afterHealing = history.entries.filter(
      (entry) => entry.call >= healedNs && entry.return !== null,
    ).length;
    finalValues = await finalChecks({ cluster, options, history, workload, violations });
  } finally {
    await stopBoth(workload, nemesis);
    await cluster.stop();
  }
  for (const exit of cluster.unexpectedExits) {
    violations.push(
      `${exit.id} exited on its own (${exit.reason}) at ${(exit.atNs / 1e9).toFixed(1)}s; see logs/${exit.id}.log`,
    );
  }
  const lost = findLostWrites(history.entries, finalValues);
  for (const write of lost.slice(0, differingKeysShownMax)) {
    violations.push(
      `acknowledged ${write.op} ${JSON.stringify(write.value)} to ${write.key} is missing from the final value ${JSON.stringify(write.finalValue)}`,
    );
  }
  if (lost.length > differingKeysShownMax)
    violations.push(`${lost.length} acknowledged writes lost in all`);
  if (history.droppedCount > 0)
    violations.push(`${history.droppedCount} operations not recorded: history full`);
  log('checking linearizability');
  const check = checkLinearizability(toCheckerHistory(history.entries), keyValueModel, {
    timeBudgetMs: options.checkBudgetS * 1000,
  });
  if (check.result === 'not-linearizable') {
    // The explanation names client numbers; say which server and read mode each one used.
    const involved = new Set(
      [...check.explanation.longestPrefix.slice(-5), ...check.explanation.candidates].map(
        (operation) => operation.process,
      ),
    );
    const sessions = workload.sessions
      .filter((session) => involved.has(session.client))
      .map((session) => `${session.client} on ${session.server} (${session.readMode})`);
    violations.push(`${check.message}\nclients: ${sessions.join(', ')}`);
  }
  if (afterHealing === 0) violations.push('no operation succeeded after the cluster was healed');
  const verdict: ChaosVerdict =
    violations.length > 0 ? 'fail' : check.result === 'unknown' ? 'unknown' : 'pass';
  const report: ChaosReport = {
    seed: options.seed,
    durationS: options.durationS,
    operations: {
      total: history.entries.length,
      byKind: countOperations(history.entries),
      refused: history.refusedCount,
      afterHealing,
    },
    keys: workload.keys.length,
    faults: nemesis.counts(),
    snapshotsInstalled: cluster.snapshotsInstalled,
    linearizability: { result: check.result, message: check.message },
    violations,
    verdict,
    elapsedS: Math.round((performance.now() - startedMs) / 1000),
  };
  history.write(join(options.out, 'history.json'));
  writeFileSync(join(options.out, 'clients.json'), JSON.stringify(workload.sessions) + '\n');
  writeFileSync(join(options.out, 'faults.json'), JSON.stringify(nemesis.records, null, 2) + '\n');
  writeFileSync(join(options.out, 'summary.json'), JSON.stringify(report, null, 2) + '\n');
  if (verdict === 'pass' && !options.keep) {
    rmSync(join(options.out, 'data'), { recursive: true, force: true });
    rmSync(join(options.out, 'logs'), { recursive: true, force: true });
  }
  return report;
}

/** The output directory must be new or empty: a server would otherwise start on old data. */
function prepareOutput(directory: string): void {
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    throw new RaftError('INVALID_CONFIG', `${directory} is not empty; choose a new --out`, {
      details: { option: 'out' },
    });
  }
  mkdirSync(directory, { recursive: true });
}

async function waitForLeader(cluster: ChaosCluster): Promise<void> {
  const deadline = performance.now() + firstLeaderTimeoutMs;
  while (performance.now() < deadline) {
    if ((await cluster.leader()) !== null) return;
    await sleep(100);
  }
  throw new Error(`no leader within ${firstLeaderTimeoutMs} ms of starting the cluster`);
}

async function stopBoth(workload: Workload, nemesis: Nemesis): Promise<void> {
  await nemesis.stop();
  await workload.stop();
}

/**
 * Waits for the healed cluster to settle, then reads every key on the leader (linearizable, and
 * added to the history) and on every server (stale, from its own state), and compares them.
 */
async function finalChecks(context: {
  readonly cluster: ChaosCluster;
  readonly options: ChaosOptions;
  readonly history: RunHistory;
  readonly workload: Workload;
  readonly violations: string[];
}): Promise<Map<string, string | null>> {
  const { cluster, options, history, workload, violations } = context;
  const convergence = await awaitConvergence(cluster, options.convergeTimeoutS * 1000);
  if (!convergence.converged) {
    violations.push(
      `no convergence within ${options.convergeTimeoutS} s: ${JSON.stringify(convergence.statuses)}`,
    );
    return new Map();
  }
  const keys = workload.keys;
  const add = (entry: HistoryEntry): void => history.add(entry);
  const leaderState = await readAll({
    address: cluster.clientAddress(convergence.leader),
    keys,
    consistency: 'linearizable',
    record: { client: workload.newProcess(convergence.leader, 'linearizable'), add },
    now: () => history.now(),
  });
  const expected = leaderState.values;
  for (const id of cluster.ids) {
    const local = await readAll({
      address: cluster.clientAddress(id),
      keys,
      consistency: 'stale',
      now: () => history.now(),
    });
    const differing = differingKeys(expected, local.values, differingKeysShownMax);
    const shown = differing.map(
      (key) =>
        `${key}=${JSON.stringify(local.values.get(key))} vs ${JSON.stringify(expected.get(key))}`,
    );
    if (differing.length > 0) {
      violations.push(
        `${id} differs from the leader ${convergence.leader} at applied index ${convergence.appliedIndex}: ${shown.join(', ')}`,
      );
    }
    if (local.size !== leaderState.size) {
      violations.push(`${id} holds ${local.size} keys, the leader ${leaderState.size}`);
    }
  }
  return expected;
}
