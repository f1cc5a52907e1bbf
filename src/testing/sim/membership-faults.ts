import { isJoint } from '../../core/configuration.js';
import { RaftError } from '../../core/errors.js';
import type { RandomSource } from '../../core/random.js';
import type { Configuration, NodeId } from '../../core/types.js';
import { pick, shuffle } from './fault-plan.js';
import type { SimCluster } from './sim-cluster.js';

/** Virtual time one random membership change may take (a promotion's catch-up included). */
export const membershipChangeMsMax = 1500;
/** Voters a random change leaves at least, so that a quorum is more than one server. */
const votersMin = 2;

/** The kinds of membership change the simulator makes, each through the node's public API. */
export type MembershipChangeKind = 'add-learner' | 'promote' | 'remove' | 'joint';

/** One change the simulator chose: what it asks of the leader. */
export interface PlannedMembershipChange {
  readonly kind: MembershipChangeKind;
  readonly description: string;
  /** The voters and learners asked for (for `joint`), or the server concerned. */
  readonly target: { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
  readonly id: NodeId | null;
}

/**
 * Chooses a change of `configuration` among the servers of `pool`: add a server that is not a
 * member as a learner, promote a learner, remove a voter or learner, or move to a random voter
 * set in one call (a joint change when more than one voter differs). `null` when the current
 * configuration is joint (the leader is still leaving it).
 */
export function planMembershipChange(
  random: RandomSource,
  pool: readonly NodeId[],
  configuration: Configuration,
): PlannedMembershipChange | null {
  if (isJoint(configuration)) return null;
  const { voters, learners } = configuration;
  const outsiders = pool.filter((id) => !voters.includes(id) && !learners.includes(id));
  const choices: MembershipChangeKind[] = ['joint'];
  if (outsiders.length > 0) choices.push('add-learner');
  if (learners.length > 0) choices.push('promote');
  if (voters.length > votersMin || learners.length > 0) choices.push('remove');
  const kind = pick(random, choices);
  switch (kind) {
    case 'add-learner': {
      const id = pick(random, outsiders);
      return { kind, id, description: `add learner ${id}`, target: withLearner(configuration, id) };
    }
    case 'promote': {
      const id = pick(random, learners);
      return { kind, id, description: `promote ${id}`, target: promoted(configuration, id) };
    }
    case 'remove': {
      const removable = [...(voters.length > votersMin ? voters : []), ...learners];
      const id = pick(random, removable);
      return { kind, id, description: `remove ${id}`, target: without(configuration, id) };
    }
    case 'joint': {
      const shuffled = shuffle(random, pool);
      const size = votersMin + Math.floor(random() * (pool.length - votersMin + 1));
      const target = { voters: shuffled.slice(0, size).sort(), learners: [] };
      return { kind, id: null, description: `move to voters ${target.voters.join(',')}`, target };
    }
  }
}

function withLearner(configuration: Configuration, id: NodeId) {
  return { voters: configuration.voters, learners: [...configuration.learners, id] };
}

function promoted(configuration: Configuration, id: NodeId) {
  return {
    voters: [...configuration.voters, id],
    learners: configuration.learners.filter((learner) => learner !== id),
  };
}

function without(configuration: Configuration, id: NodeId) {
  return {
    voters: configuration.voters.filter((voter) => voter !== id),
    learners: configuration.learners.filter((learner) => learner !== id),
  };
}

/**
 * Starts a random membership change on the current leader through `RaftNode`'s own methods.
 * The change runs on while faults go on; a refusal (`CHANGE_IN_PROGRESS`, `NOT_LEADER`, a
 * catch-up that fails…) is an ordinary outcome, noted in the trace. Returns what was asked, or
 * `null` when there is no leader or the leader is between configurations.
 */
export function startRandomMembershipChange(
  cluster: SimCluster<unknown, unknown, unknown>,
  random: RandomSource,
): PlannedMembershipChange | null {
  const leader = cluster.leader();
  if (leader === null) return null;
  const change = planMembershipChange(random, cluster.ids, leader.status().configuration);
  if (change === null) return null;
  const options = { timeoutMs: membershipChangeMsMax };
  const started =
    change.kind === 'add-learner'
      ? leader.addLearner(change.id!, options)
      : change.kind === 'promote'
        ? leader.promote(change.id!, options)
        : change.kind === 'remove'
          ? leader.removeServer(change.id!, options)
          : leader.changeMembership(change.target, options);
  started.then(
    (configuration) =>
      cluster.traceNote(leader.id, `${change.description}: now ${describe(configuration)}`),
    (error: unknown) =>
      cluster.traceNote(
        leader.id,
        `${change.description} refused: ${error instanceof RaftError ? error.code : String(error)}`,
      ),
  );
  return change;
}

function describe(configuration: Configuration): string {
  const learners =
    configuration.learners.length === 0 ? '' : ` +${configuration.learners.join(',')}`;
  return `voters ${configuration.voters.join(',')}${learners}`;
}

/**
 * Whether the leader's configuration has every server of the cluster as a voter. The liveness
 * phase brings it back there, so that its convergence check may demand every log be equal.
 */
export function everyServerVotes(cluster: SimCluster<unknown, unknown, unknown>): boolean {
  const configuration = cluster.leader()?.status().configuration;
  if (configuration === undefined || isJoint(configuration)) return false;
  return (
    configuration.learners.length === 0 &&
    configuration.voters.length === cluster.ids.length &&
    cluster.ids.every((id) => configuration.voters.includes(id))
  );
}

/**
 * Asks the leader (whichever it is now) to make every server a voter again; `false` when that was
 * refused for now (another change still under way, no leader), so the caller tries again later.
 */
export async function restoreEveryVoter(
  cluster: SimCluster<unknown, unknown, unknown>,
): Promise<boolean> {
  const leader = cluster.leader();
  if (leader === null) return false;
  try {
    await leader.changeMembership(
      { voters: cluster.ids, learners: [] },
      { timeoutMs: membershipChangeMsMax },
    );
    return true;
  } catch {
    return false;
  }
}
