import { RaftError } from '../../core/errors.js';
import type { KeyValueOutput } from '../linearizability/key-value-model.js';
import { commandKey, entryContentKey } from '../checkers/entry-key.js';
import { encodeKeyValueCommand } from './key-value-state-machine.js';
import { everyServerVotes, restoreEveryVoter } from './membership-faults.js';
import type { SimCluster } from './sim-cluster.js';

type KeyValueCluster = SimCluster<KeyValueOutput, string, string>;
/** The time and steps left to a wait of the liveness phase. */
type Budget = () => { timeMsMax: number; stepsMax: number };

/** What the liveness phase needs to know of the run. */
export interface LivenessPhaseOptions {
  /** Whether the safety phase changed the membership: then every server is made a voter again. */
  readonly membershipChanged: boolean;
  /** Virtual time the phase may take to converge. */
  readonly timeMsMax: number;
  readonly stepsMax: number;
  /** Attempts at the fresh write that proves the healed cluster commits. */
  readonly freshWriteAttemptsMax: number;
  /** Whether a violation (or the end of the run's real time) already decided the run. */
  readonly violated: () => boolean;
}

/** How soon the liveness phase restarts a process that died during it. */
const livenessRestartDelayMs = 10;
/** Attempts at making every server a voter again before the liveness phase gives up. */
const membershipRestoreAttemptsMax = 100;
/** Virtual time one attempt at restoring the voters may take before it is tried again. */
const membershipRestoreAttemptMs = 2_000;
/** Times the voters may be lost again after they were restored (see `convergeOnce`). */
const convergenceRoundsMax = 20;
/** Pause between attempts of the liveness write. */
const freshWriteRetryMs = 50;

/**
 * Heals everything, then demands convergence within the time budget: one leader that every
 * server follows, a fresh write committed, every server applied up to the leader's whole log and
 * the logs equal up to it. Rejects (with `TIMEOUT` when the budget runs out) if it does not.
 */
export async function runLivenessPhase(
  cluster: KeyValueCluster,
  options: LivenessPhaseOptions,
): Promise<void> {
  cluster.heal();
  for (const id of cluster.ids) if (!cluster.hasLiveProcess(id)) cluster.restart(id);
  // A write failure injected late may still strike now; healing includes restarting its victim.
  const stopRestarting = cluster.listen({
    onProcessDied: (nodeId) =>
      cluster.clock.schedule(livenessRestartDelayMs, () => {
        if (!cluster.hasLiveProcess(nodeId)) cluster.restart(nodeId);
      }),
  });
  const deadline = cluster.clock.now() + options.timeMsMax;
  const remaining: Budget = () => ({
    timeMsMax: Math.max(0, deadline - cluster.clock.now()),
    stepsMax: options.stepsMax,
  });
  const fresh = { written: false };
  try {
    for (let round = 1; round <= convergenceRoundsMax; round++) {
      if (await convergeOnce(cluster, options, remaining, fresh)) return;
      if (options.violated()) return;
    }
    throw new RaftError('TIMEOUT', 'the servers were removed again each time they were restored');
  } finally {
    stopRestarting();
  }
}

/**
 * One attempt at convergence; `false` when the voters were lost again on the way. The
 * configuration a leader shows right after the faults need not last: a change asked during the
 * faults may still be waiting on its leader (for an entry of the new term to commit), and a
 * stale leader's configuration is replaced once a server holding a newer change wins. So every
 * wait below also ends when the leader of the moment no longer counts every server as a voter,
 * and the caller restores them again.
 */
async function convergeOnce(
  cluster: KeyValueCluster,
  options: LivenessPhaseOptions,
  remaining: Budget,
  fresh: { written: boolean },
): Promise<boolean> {
  const { violated } = options;
  const votersLost = (): boolean =>
    options.membershipChanged &&
    cluster.leader() !== null &&
    !everyServerVotes(cluster as unknown as SimCluster);
  if (options.membershipChanged) {
    await restoreMembership(cluster, remaining, violated);
    if (violated()) return true;
  }
  await cluster.runUntil(() => violated() || votersLost() || leaderFollowed(cluster), remaining());
  if (violated()) return true;
  if (votersLost()) return false;
  if (!fresh.written) {
    await proposeFresh(cluster, remaining, options.freshWriteAttemptsMax);
    fresh.written = true;
    if (violated()) return true;
  }
  await cluster.runUntil(() => violated() || votersLost() || converged(cluster), remaining());
  return violated() || !votersLost();
}

/** Whether there is a leader and every server is up and follows it. */
function leaderFollowed(cluster: KeyValueCluster): boolean {
  const leader = cluster.leader();
  return (
    leader !== null &&
    cluster.ids.every((id) => cluster.isUp(id) && cluster.node(id).leaderId === leader.id)
  );
}

/**
 * Makes every server a voter again after a run of membership changes, so that convergence can
 * demand equal logs everywhere; a server removed while it was down learns here that it is back.
 * Bounded by the liveness budget.
 */
async function restoreMembership(
  cluster: KeyValueCluster,
  remaining: Budget,
  violated: () => boolean,
): Promise<void> {
  const untyped = cluster as unknown as SimCluster;
  for (let attempt = 1; attempt <= membershipRestoreAttemptsMax; attempt++) {
    await cluster.runUntil(() => violated() || cluster.leader() !== null, remaining());
    if (violated() || everyServerVotes(untyped)) return;
    // One attempt at a time: a change asked of a leader whose process then dies never settles.
    const budget = remaining();
    const attempt = {
      ...budget,
      timeMsMax: Math.min(budget.timeMsMax, membershipRestoreAttemptMs),
    };
    const restored = await cluster
      .settle(restoreEveryVoter(untyped), attempt)
      .catch((error: unknown) => {
        if (remaining().timeMsMax === 0) throw error;
        return false;
      });
    // Refused for now (a change of the safety phase still finishing, a new election): retry.
    if (!restored) await cluster.runFor(freshWriteRetryMs);
  }
  throw new RaftError('TIMEOUT', 'every server could not be made a voter again after the faults');
}

/** Commits one new write on the leader of the moment, retrying on the next one. */
async function proposeFresh(
  cluster: KeyValueCluster,
  remaining: Budget,
  attemptsMax: number,
): Promise<void> {
  const command = encodeKeyValueCommand({
    kind: 'put',
    key: 'liveness',
    value: `seed ${cluster.seed}`,
  });
  for (let attempt = 1; attempt <= attemptsMax; attempt++) {
    const leader = cluster.leader();
    if (leader === null) {
      await cluster.runUntil(() => cluster.leader() !== null, remaining());
      continue;
    }
    try {
      await cluster.settle(leader.propose(command), remaining());
      cluster.checkers.acknowledgedWrites.acknowledge(commandKey(command), 'the liveness write');
      return;
    } catch (error) {
      // A leader change refused or lost the write: try again on the new leader while time lasts.
      if (remaining().timeMsMax === 0) throw error;
      await cluster.runFor(freshWriteRetryMs);
    }
  }
  throw new RaftError('TIMEOUT', 'no fresh write committed after the cluster healed');
}

/** Every node up, applied up to one commit index equal to the leader's log, logs equal up to it. */
function converged(cluster: KeyValueCluster): boolean {
  const leader = cluster.leader();
  if (leader === null) return false;
  const leaderStatus = leader.status();
  if (leaderStatus.commitIndex !== leaderStatus.lastIndex) return false;
  const reference = cluster.log(leader.id);
  for (const id of cluster.ids) {
    if (!cluster.isUp(id)) return false;
    const status = cluster.node(id).status();
    if (status.commitIndex !== leaderStatus.commitIndex) return false;
    if (status.appliedIndex !== status.commitIndex) return false;
    const log = cluster.log(id);
    for (
      let index = Math.max(log.snapshotIndex, reference.snapshotIndex) + 1;
      index <= status.commitIndex;
      index++
    ) {
      const mine = log.entry(index);
      const theirs = reference.entry(index);
      if (mine === undefined || theirs === undefined) return false;
      if (mine.term !== theirs.term || entryContentKey(mine) !== entryContentKey(theirs)) {
        cluster.checkers.log.report(
          'log-matching',
          `after healing, ${id} and ${leader.id} differ at committed index ${index}`,
        );
        return true;
      }
    }
  }
  return true;
}
