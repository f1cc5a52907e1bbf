import type { RandomSource } from '../../core/random.js';
import type { ClusterSettings } from '../../core/types.js';
import type { NetworkFaults } from '../../transport/in-process/index.js';
import type { ReadPath } from './sim-workload.js';

/** The kinds of fault event a plan can schedule, with their relative weights. */
export interface FaultWeights {
  readonly partition: number;
  readonly oneWayPartition: number;
  readonly crash: number;
  /** A crash right after a node grants its vote: the moment a lost vote would hurt most. */
  readonly crashAfterVote: number;
  readonly failedFsync: number;
  readonly slowDisk: number;
  readonly networkChange: number;
  /** Cutting the leader off while its clients keep talking to it (reads included). */
  readonly isolateLeader: number;
  /**
   * A membership change on the leader: add a learner, promote one, remove a server, or move to
   * another voter set (joint consensus). The liveness phase makes every server a voter again.
   */
  readonly membership: number;
}

/** The fault mix and shape of one randomized run, all drawn from its seed. */
export interface FaultPlan {
  /** Cluster size. */
  readonly nodes: number;
  readonly settings: ClusterSettings;
  /** Random network faults in force at the start of the safety phase. */
  readonly network: NetworkFaults;
  /** Length of the safety phase in virtual milliseconds. */
  readonly safetyPhaseMs: number;
  /** Mean virtual time between two fault events. */
  readonly faultIntervalMs: number;
  readonly weights: FaultWeights;
  /** How long every disk takes to sync a write at most (slow-disk faults add to it). */
  readonly diskSyncDelayMsMax: number;
  /** Whether crashes may keep part of the unsynced writes. */
  readonly tornTails: boolean;
  /** Whether messages in flight to a crashed node may reach its next process. */
  readonly inFlightSurvivesCrash: boolean;
  /**
   * Whether the key-value state machine keeps its state in a store that survives crashes (and
   * reports `appliedIndex`), instead of rebuilding it from the log after every restart.
   */
  readonly durableStateMachine: boolean;
  /**
   * How clients read: through the log, with `read` at linearizable or lease consistency, or a mix
   * of those and stale reads.
   */
  readonly readPath: ReadPath;
  /**
   * How far each node's clock may run from simulated time, as a fraction (0.03: between 3% slow
   * and 3% fast); each node draws its own rate. Kept within the lease's drift bound.
   */
  readonly clockDriftMax: number;
  /**
   * The lease's drift bound every node is configured with (`clockDriftBoundTicks`). Drawn plans
   * use the default, 1, which covers `clockDriftMax`; a test that sets a smaller bound than the
   * drift it draws is making a run that must fail.
   */
  readonly clockDriftBoundTicks: number;
  /** Concurrent clients of the workload. */
  readonly clients: number;
  /** Longest pause of a client between two operations. */
  readonly thinkMsMax: number;
  /** When nodes take snapshots and how they send them; `null` keeps the node's defaults. */
  readonly snapshots: SimSnapshotPolicy | null;
}

/**
 * A snapshot policy far below the defaults, so that nodes snapshot, compact and send snapshots
 * many times in one short run.
 */
export interface SimSnapshotPolicy {
  readonly entriesMax: number;
  readonly trailingEntries: number;
  readonly chunkBytes: number;
}

/** Bounds the plans are drawn from. */
export const faultPlanLimits = Object.freeze({
  safetyPhaseMsMin: 500,
  safetyPhaseMsMax: 2500,
  diskSyncDelayMsMax: 8,
  faultIntervalMsMin: 50,
  faultIntervalMsMax: 400,
  dropRateMax: 0.15,
  duplicateRateMax: 0.1,
  reorderRateMax: 0.2,
  delayMsMax: 30,
  clientsMin: 2,
  clientsMax: 4,
  thinkMsMax: 40,
  /**
   * Clock drift drawn at most. With the simulator's 10-tick election timeout and the lease's
   * default bound of one tick, two clocks may disagree by 10% over a timeout: 4% each way stays
   * inside it.
   */
  clockDriftMax: 0.04,
  /** Entries between snapshots: a run commits a few hundred, so nodes snapshot many times. */
  snapshotEntriesMin: 5,
  snapshotEntriesMax: 60,
  snapshotTrailingEntriesMax: 10,
  /** Snapshot chunk size at most: a snapshot of a few dozen keys travels in several chunks. */
  snapshotChunkBytesMax: 512,
});

/** Picks one of `choices` with the given random source. */
export function pick<T>(random: RandomSource, choices: readonly T[]): T {
  const choice = choices[Math.floor(random() * choices.length)];
  if (choice === undefined) throw new RangeError('pick from an empty list');
  return choice;
}

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(random: RandomSource, items: readonly T[]): T[] {
  const copy = [...items];
  for (let position = copy.length - 1; position > 0; position--) {
    const other = Math.floor(random() * (position + 1));
    [copy[position], copy[other]] = [copy[other]!, copy[position]!];
  }
  return copy;
}

/** A number in [min, max). */
export function between(random: RandomSource, min: number, max: number): number {
  return min + random() * (max - min);
}

/** Random network faults; about one run in four gets a perfect network. */
export function drawNetworkFaults(random: RandomSource): NetworkFaults {
  const limits = faultPlanLimits;
  if (random() < 0.25) {
    return {
      dropRate: 0,
      duplicateRate: 0,
      delayMsMin: 0,
      delayMsMax: 1,
      reorderRate: 0,
      reorderDelayMsMax: 10,
    };
  }
  const delayMsMax = between(random, 1, limits.delayMsMax);
  return {
    dropRate: random() < 0.7 ? between(random, 0, limits.dropRateMax) : 0,
    duplicateRate: random() < 0.5 ? between(random, 0, limits.duplicateRateMax) : 0,
    delayMsMin: between(random, 0, delayMsMax / 4),
    delayMsMax,
    reorderRate: random() < 0.5 ? between(random, 0, limits.reorderRateMax) : 0,
    reorderDelayMsMax: between(random, 1, 20),
  };
}

/**
 * Draws a run's fault mix from `random`: some runs are mostly partitions, some mostly crashes,
 * some quiet, so that the seeds together cover very different schedules (TigerBeetle's "swarm
 * testing").
 */
export function drawFaultPlan(random: RandomSource): FaultPlan {
  const limits = faultPlanLimits;
  const weight = (): number => (random() < 0.3 ? 0 : random());
  const weights: FaultWeights = {
    partition: weight(),
    oneWayPartition: weight(),
    crash: weight(),
    crashAfterVote: weight() / 2,
    failedFsync: weight() / 3,
    slowDisk: weight() / 2,
    networkChange: weight() / 2,
    isolateLeader: 0,
    membership: 0,
  };
  const plan: FaultPlan = {
    nodes: random() < 0.7 ? 3 : 5,
    settings: { preVote: random() < 0.7, checkQuorum: random() < 0.7 },
    network: drawNetworkFaults(random),
    safetyPhaseMs: Math.round(between(random, limits.safetyPhaseMsMin, limits.safetyPhaseMsMax)),
    faultIntervalMs: Math.round(
      between(random, limits.faultIntervalMsMin, limits.faultIntervalMsMax),
    ),
    diskSyncDelayMsMax: between(random, 1, limits.diskSyncDelayMsMax),
    tornTails: random() < 0.5,
    inFlightSurvivesCrash: random() < 0.5,
    clients: Math.floor(between(random, limits.clientsMin, limits.clientsMax + 1)),
    thinkMsMax: Math.round(between(random, 1, limits.thinkMsMax)),
    // Drawn last, so that adding them kept every earlier field of a seed's plan as it was.
    readPath: pick(random, ['log', 'linearizable', 'lease'] as const),
    durableStateMachine: random() < 0.5,
    clockDriftBoundTicks: 1,
    ...drawLaterFields(random, weights),
    // After every other field, for the same reason as drawLaterFields.
    snapshots: drawSnapshotPolicy(random),
  };
  // Last of all, so that every earlier field of a seed's plan stays as it was; half the runs
  // change their membership, and a run without such changes replays exactly as before.
  const membership = random() < 0.5 ? random() : 0;
  return { ...plan, weights: { ...plan.weights, membership } };
}

/** Most runs snapshot every few dozen entries; a fifth keep the defaults (no snapshot at all). */
function drawSnapshotPolicy(random: RandomSource): SimSnapshotPolicy | null {
  if (random() < 0.2) return null;
  const limits = faultPlanLimits;
  return {
    entriesMax: Math.floor(between(random, limits.snapshotEntriesMin, limits.snapshotEntriesMax)),
    trailingEntries: Math.floor(between(random, 0, limits.snapshotTrailingEntriesMax + 1)),
    chunkBytes: Math.floor(between(random, 16, limits.snapshotChunkBytesMax)),
  };
}

/**
 * The fields added after the first plans: drawn after every earlier one, so that the earlier
 * fields of a seed's plan stay as they were. A quarter of the runs read in every mode at once.
 */
function drawLaterFields(
  random: RandomSource,
  weights: FaultWeights,
): Pick<FaultPlan, 'weights' | 'clockDriftMax'> & { readPath?: ReadPath } {
  const isolateLeader = random() < 0.5 ? random() : 0;
  const clockDriftMax = random() < 0.5 ? between(random, 0, faultPlanLimits.clockDriftMax) : 0;
  return {
    weights: { ...weights, isolateLeader },
    clockDriftMax,
    ...(random() < 0.25 ? { readPath: 'mixed' as const } : {}),
  };
}
