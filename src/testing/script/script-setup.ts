import { CoreCluster, type ClusterOptions, type CoreFactory } from './core-cluster.js';
import {
  booleanOption,
  idList,
  numberOption,
  withoutUndefined,
  type CommandArguments,
} from './script-arguments.js';

/** Builds a new cluster for a script; it replaces whatever cluster the script had. */
export type ClusterBuilder = (
  args: CommandArguments,
  coreFactory: CoreFactory | undefined,
) => CoreCluster;

function clusterOptions(
  voters: number,
  learners: number,
  named: ReadonlyMap<string, string>,
  coreFactory: CoreFactory | undefined,
): ClusterOptions {
  return {
    voters,
    learners,
    settings: withoutUndefined({
      preVote: booleanOption(named, 'prevote'),
      checkQuorum: booleanOption(named, 'checkquorum'),
    }),
    core: withoutUndefined({
      electionTicks: numberOption(named, 'election'),
      heartbeatTicks: numberOption(named, 'heartbeat'),
      inflightMessagesMax: numberOption(named, 'inflight'),
      entriesPerMessageMax: numberOption(named, 'entries-per-message'),
      messageBytesMax: numberOption(named, 'message-bytes'),
    }),
    ...(coreFactory === undefined ? {} : { coreFactory }),
  };
}

/** `add-nodes N [learners=M] [options]`: N voters and M learners, nobody elected yet. */
export const addNodes: ClusterBuilder = ({ target, named }, coreFactory) => {
  const learners = numberOption(named, 'learners') ?? 0;
  const cluster = new CoreCluster(clusterOptions(Number(target), learners, named, coreFactory));
  cluster.log('ok');
  return cluster;
};

/** Checks that `ids` are the servers `from`, `from + 1`, … that a cluster numbers in order. */
function requireNumbered(key: string, ids: readonly string[], from: number): void {
  const expected = ids.map((_, position) => String(from + position));
  if (ids.join(',') !== expected.join(',')) {
    throw new Error(
      `setup: ${key} must be numbered in order from ${from} (${expected.join(',') || 'none'}), got ${ids.join(',') || 'none'}`,
    );
  }
}

/**
 * `setup voters=1,2,3 [leader=1] [learners=4,5] [add-nodes options]`: builds the cluster, lets
 * `leader` win an election and replicate its first entry to everyone, and prints one line instead
 * of the election's transcript. The state is exactly what `add-nodes`, `campaign` and `stabilize`
 * leave, so a script that starts here behaves as one that replays them.
 */
export const setUp: ClusterBuilder = ({ named }, coreFactory) => {
  const voters = idList(named.get('voters'));
  if (voters.length === 0) throw new Error('setup: voters=1,2,… is required');
  requireNumbered('voters', voters, 1);
  const learners = idList(named.get('learners'));
  requireNumbered('learners', learners, voters.length + 1);
  const leader = named.get('leader') ?? voters[0]!;
  if (!voters.includes(leader)) throw new Error(`setup: leader ${leader} is not a voter`);
  const cluster = new CoreCluster(
    clusterOptions(voters.length, learners.length, named, coreFactory),
  );
  cluster.core(leader).campaign();
  cluster.stabilize();
  cluster.takeOutput();
  const elected = cluster.core(leader).status();
  if (elected.role !== 'leader') throw new Error(`setup: ${leader} did not win the election`);
  const behind = [...cluster.servers.keys()].filter(
    (id) => cluster.core(id).status().commitIndex !== elected.commitIndex,
  );
  if (behind.length > 0) throw new Error(`setup: ${behind.join(',')} did not catch up`);
  const learnerText = learners.length === 0 ? '' : ` learners=${learners.join(',')}`;
  cluster.log(
    `ok leader=${leader} term=${elected.term} commit=${elected.commitIndex} voters=${voters.join(',')}${learnerText}`,
  );
  return cluster;
};
