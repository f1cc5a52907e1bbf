import { RaftError } from '../../core/errors.js';
import type { NodeId } from '../../core/types.js';
import type { StateMachine } from '../../node/state-machine.js';
import type { LogStorage } from '../../storage/log-storage.js';
import type { MessageInterceptor } from '../../transport/in-process/index.js';
import type { SafetyViolation } from '../checkers/safety-violation.js';
import { checkLinearizability } from '../linearizability/check-linearizability.js';
import { keyValueModel, type KeyValueOutput } from '../linearizability/key-value-model.js';
import type { LinearizabilityVerdict } from '../linearizability/check-linearizability.js';
import { formatTraceTable } from '../trace/format-trace-table.js';
import { Tracer } from '../trace/tracer.js';
import { FaultInjector } from './fault-injector.js';
import { drawFaultPlan, type FaultPlan } from './fault-plan.js';
import type { FaultKind } from './fault-counts.js';
import { KeyValueStateMachine, KeyValueStore } from './key-value-state-machine.js';
import { derivedRandom } from './derived-random.js';
import { runLivenessPhase } from './liveness-phase.js';
import type { SnapshotCounts } from './node-process.js';
import { SimCluster } from './sim-cluster.js';
import { KeyValueWorkload } from './sim-workload.js';

/** Options of {@link runSimulation}. */
export interface SimRunOptions {
  /** The seed: the whole run derives from it. */
  readonly seed: number;
  /** Steps at most (both phases); a run that needs more stops and reports it. Default 200,000. */
  readonly stepsMax?: number;
  /** Virtual time the liveness phase may take to converge. Default 10,000 ms. */
  readonly livenessTimeMsMax?: number;
  /**
   * Real time the run may take before it stops and reports a liveness failure (a run that is
   * stuck or pathologically slow). Default 60,000 ms.
   */
  readonly wallTimeMsMax?: number;
  /** Real time the linearizability check may take before it answers `unknown`. Default 5,000. */
  readonly linearizabilityBudgetMs?: number;
  /** Trace rows printed for a failed run. Default 200. */
  readonly traceRows?: number;
  /** Overrides parts of the fault plan drawn from the seed. */
  readonly plan?: Partial<FaultPlan>;
  /** The state machine under test; it must understand the key-value workload's JSON commands. */
  readonly stateMachine?: (nodeId: NodeId) => StateMachine<KeyValueOutput, string, string>;
  /** Wraps each node's storage (to model a buggy adapter in self-tests). */
  readonly wrapStorage?: (storage: LogStorage, nodeId: NodeId) => LogStorage;
  /** Sees every message as it is sent (to model a protocol bug in self-tests). */
  readonly interceptor?: MessageInterceptor;
  /** Keeps every trace row instead of the last few thousand (for replay comparisons). */
  readonly fullTrace?: boolean;
}

/** Defaults of {@link SimRunOptions}. */
export const simRunDefaults = Object.freeze({
  stepsMax: 200_000,
  livenessTimeMsMax: 10_000,
  wallTimeMsMax: 60_000,
  linearizabilityBudgetMs: 5000,
  traceRows: 200,
  traceRowsKept: 2000,
  fullTraceRowsMax: 1_000_000,
  freshWriteAttemptsMax: 10,
});

/** What one seeded run did and found. */
export interface SimRunResult {
  readonly seed: number;
  readonly plan: FaultPlan;
  readonly steps: number;
  readonly virtualTimeMs: number;
  readonly faults: readonly (readonly [FaultKind | 'duplicate', number])[];
  /** Snapshots the nodes took, sent and installed. */
  readonly snapshots: Readonly<SnapshotCounts>;
  readonly checks: number;
  readonly operations: number;
  readonly violations: readonly SafetyViolation[];
  /** The linearizability verdict; `unknown` (budget ran out) is reported, not a failure. */
  readonly linearizability: LinearizabilityVerdict;
  readonly linearizabilityMessage: string;
  /** The trace: every row with `fullTrace`, otherwise the last rows kept. */
  readonly traceRows: Tracer;
  /** Whether any violation was found. */
  readonly failed: boolean;
}

/**
 * Runs one randomized simulation in two phases. The safety phase injects the seed's fault mix
 * while clients write and read; checkers watch every step. The liveness phase heals everything and
 * demands that the cluster converges (one leader, equal logs up to the commit index, a fresh write
 * committed) within a bounded virtual time. Then no acknowledged write may be missing and the
 * client history must be linearizable.
 */
export async function runSimulation(options: SimRunOptions): Promise<SimRunResult> {
  const seed = options.seed;
  const plan: FaultPlan = { ...drawFaultPlan(derivedRandom(seed, 'plan')), ...options.plan };
  const tracer = new Tracer({
    rowsMax:
      options.fullTrace === true ? simRunDefaults.fullTraceRowsMax : simRunDefaults.traceRowsKept,
  });
  const clockRates = drawClockRates(seed, plan);
  const snapshots = plan.snapshots;
  const cluster = new SimCluster<KeyValueOutput, string, string>({
    seed,
    nodes: plan.nodes,
    clockRate: (nodeId) => clockRates(nodeId),
    settings: plan.settings,
    network: plan.network,
    inFlightSurvivesCrash: plan.inFlightSurvivesCrash,
    disk: { syncDelayMsMin: 0, syncDelayMsMax: plan.diskSyncDelayMsMax },
    stateMachine: options.stateMachine ?? keyValueMachines(plan.durableStateMachine),
    nodeOptions: () => ({ core: { clockDriftBoundTicks: plan.clockDriftBoundTicks } }),
    tracer,
    ...(snapshots === null ? {} : { nodeOptions: () => ({ snapshots }) }),
    ...(options.wrapStorage === undefined ? {} : { wrapStorage: options.wrapStorage }),
    ...(options.interceptor === undefined ? {} : { interceptor: options.interceptor }),
  });
  const untyped = cluster as unknown as SimCluster;
  const stepsMax = options.stepsMax ?? simRunDefaults.stepsMax;
  const wallTimeMsMax = options.wallTimeMsMax ?? simRunDefaults.wallTimeMsMax;
  const wallDeadline = performance.now() + wallTimeMsMax;
  // Out of real time counts as a violation, so every wait below ends at once and reports it.
  const violated = (): boolean => {
    if (cluster.checkers.violations.length > 0) return true;
    if (performance.now() <= wallDeadline) return false;
    // Reported once: the violation stops every later wait.
    cluster.checkers.log.report(
      'liveness',
      `the run took more than ${wallTimeMsMax} ms of real time (at ${cluster.steps} steps)`,
    );
    return true;
  };
  for (const id of cluster.ids) {
    const rate = clockRates(id);
    if (rate !== 1) cluster.faults.add('clock-drift');
    if (rate !== 1) cluster.traceNote(id, `clock runs at ${rate.toFixed(4)}x`);
  }
  const workload = new KeyValueWorkload(untyped, {
    clients: plan.clients,
    thinkMsMax: plan.thinkMsMax,
    readPath: plan.readPath,
    random: cluster.random('workload'),
  });
  const injector = new FaultInjector(untyped, plan, cluster.random('faults'), {
    // Some clients find the new leader and write there; the rest keep reading the old one.
    onLeaderIsolated: (leaderId) => workload.leaveSome(leaderId),
  });
  try {
    await cluster.start({ stepsMax });
    workload.start();
    injector.start();
    const safetyEnd = cluster.clock.now() + plan.safetyPhaseMs;
    await cluster
      .runUntil(() => violated() || cluster.clock.now() >= safetyEnd, {
        timeMsMax: plan.safetyPhaseMs + 1,
        stepsMax,
      })
      .catch((error: unknown) => reportHarness(cluster, 'safety phase', error));
    injector.stop();
    workload.stop();
    if (!violated()) {
      await runLivenessPhase(cluster, {
        membershipChanged: plan.weights.membership > 0,
        timeMsMax: options.livenessTimeMsMax ?? simRunDefaults.livenessTimeMsMax,
        stepsMax,
        freshWriteAttemptsMax: simRunDefaults.freshWriteAttemptsMax,
        violated,
      }).catch((error: unknown) => reportHarness(cluster, 'liveness phase', error));
    }
  } catch (error) {
    reportHarness(cluster, 'run', error);
  }
  if (!violated()) {
    cluster.checkers.acknowledgedWrites.checkFinal(cluster.checkers.committedCommands());
    cluster.checkers.exactlyOnce.checkFinal(cluster.checkers.stateMachineSafety.committedEntries());
    for (const read of workload.staleReadsNotWritten()) {
      cluster.checkers.log.report(
        'state-machine-safety',
        `stale read ${read.description} returned ${JSON.stringify(read.value)}, which no client wrote`,
      );
    }
  }
  const history = workload.recorder.operations();
  const linearizability = checkLinearizability(history, keyValueModel, {
    timeBudgetMs: options.linearizabilityBudgetMs ?? simRunDefaults.linearizabilityBudgetMs,
  });
  cluster.checkers.log.count();
  if (linearizability.result === 'not-linearizable') {
    cluster.checkers.log.report('linearizability', linearizability.message);
  }
  const stats = cluster.network.stats();
  return {
    seed,
    plan,
    steps: cluster.steps,
    virtualTimeMs: cluster.clock.now(),
    faults: [...cluster.faults.entries(), ['duplicate', stats.duplicated]],
    snapshots: { ...cluster.snapshots },
    checks: cluster.checkers.checks,
    operations: history.length,
    violations: cluster.checkers.violations,
    linearizability: linearizability.result,
    linearizabilityMessage: linearizability.message,
    traceRows: tracer,
    failed: cluster.checkers.violations.length > 0,
  };
}

/**
 * Each node's clock rate, drawn from the seed within the plan's drift: `1 ± clockDriftMax`. Drawn
 * from its own stream, so plans without drift replay as before.
 */
function drawClockRates(seed: number, plan: FaultPlan): (nodeId: NodeId) => number {
  return (nodeId) => {
    if (plan.clockDriftMax === 0) return 1;
    const random = derivedRandom(seed, `clock:${nodeId}`);
    return 1 + (2 * random() - 1) * plan.clockDriftMax;
  };
}

/** The default state machines: in memory, or over one store per node that outlives crashes. */
function keyValueMachines(durable: boolean): (nodeId: NodeId) => KeyValueStateMachine {
  if (!durable) return () => new KeyValueStateMachine();
  const stores = new Map<NodeId, KeyValueStore>();
  return (nodeId) => {
    let store = stores.get(nodeId);
    if (store === undefined) {
      store = new KeyValueStore();
      stores.set(nodeId, store);
    }
    return new KeyValueStateMachine(store);
  };
}

/** A harness error (a timeout in a phase, a thrown exception) is reported as a violation. */
function reportHarness(
  cluster: SimCluster<KeyValueOutput, string, string>,
  phase: string,
  error: unknown,
) {
  const message = error instanceof Error ? error.message : String(error);
  const property =
    error instanceof RaftError && error.code === 'TIMEOUT' ? 'liveness' : 'node-failure';
  cluster.checkers.log.report(property, `${phase}: ${message}`);
}

/** The command that replays `seed`. */
export function replayCommand(seed: number): string {
  return `npm run sim -- --seed ${seed}`;
}

/** A run explained: seed, replay command, violations and the last trace rows. */
export function formatSimReport(
  result: SimRunResult,
  traceRows: number = simRunDefaults.traceRows,
): string {
  const lines = [
    `seed ${result.seed} ${result.failed ? 'FAILED' : 'passed'} after ${result.steps} steps, ${Math.round(result.virtualTimeMs)} ms of virtual time, ${result.operations} client operations (linearizability: ${result.linearizability})`,
    `replay: ${replayCommand(result.seed)}`,
    `plan: ${JSON.stringify(result.plan)}`,
    ...result.violations.map(
      (violation) =>
        `violation (${violation.property}) at ${violation.time.toFixed(3)} ms: ${violation.message}`,
    ),
    `last ${traceRows} trace rows:`,
    formatTraceTable(result.traceRows.last(traceRows)),
  ];
  return lines.join('\n');
}
