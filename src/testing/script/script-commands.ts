import { CoreCluster, type ClusterOptions, type CoreFactory } from './core-cluster.js';
import { formatEntry } from '../../core/format.js';
import { RaftError } from '../../core/errors.js';

/** Parses `key=value` words into a map, leaving the other words in order. */
function splitArguments(words: readonly string[]): {
  positional: string[];
  named: Map<string, string>;
} {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals > 0) named.set(word.slice(0, equals), word.slice(equals + 1));
    else positional.push(word);
  }
  return { positional, named };
}

function numberOption(named: Map<string, string>, key: string): number | undefined {
  const value = named.get(key);
  return value === undefined ? undefined : Number(value);
}

function booleanOption(named: Map<string, string>, key: string): boolean | undefined {
  const value = named.get(key);
  return value === undefined ? undefined : value === 'true';
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** Drops keys whose value is undefined, as `exactOptionalPropertyTypes` requires. */
function withoutUndefined<T extends object>(record: T): Defined<T> {
  return Object.fromEntries(
    Object.entries(record).filter(([, value]) => value !== undefined),
  ) as Defined<T>;
}

function clusterOptions(count: number, named: Map<string, string>): ClusterOptions {
  return {
    voters: count,
    learners: numberOption(named, 'learners') ?? 0,
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
  };
}

/**
 * Interprets one script line against a cluster held by the caller. Returns the new cluster (for
 * `add-nodes`) and the output text. `coreFactory` builds the cores of a new cluster (the mutation
 * tests replay the scripts against a core with a planted bug).
 */
export function runScriptCommand(
  cluster: CoreCluster | null,
  command: string,
  coreFactory?: CoreFactory,
): { cluster: CoreCluster | null; output: string } {
  const [name = '', ...words] = command.trim().split(/\s+/);
  const { positional, named } = splitArguments(words);
  if (name === 'add-nodes') {
    const options = clusterOptions(Number(positional[0]), named);
    return {
      cluster: new CoreCluster(coreFactory === undefined ? options : { ...options, coreFactory }),
      output: 'ok',
    };
  }
  if (name === 'setup') {
    const built = setUp(named, coreFactory);
    return { cluster: built, output: built.takeOutput() };
  }
  if (cluster === null) throw new Error('add-nodes or setup first');
  const target = positional[0] ?? '';
  const encoder = new TextEncoder();
  switch (name) {
    case 'campaign':
      cluster.core(target).campaign();
      break;
    case 'stabilize':
      cluster.stabilize();
      break;
    case 'process-ready':
      for (const id of positional) cluster.processReady(id);
      break;
    case 'deliver-msgs':
      cluster.deliver(target === '' ? {} : { to: target });
      break;
    case 'drop-msgs':
      cluster.dropMessages(withoutUndefined({ from: named.get('from'), to: named.get('to') }));
      break;
    case 'tick-election':
      cluster.tick(target, cluster.electionTicks);
      break;
    case 'tick-heartbeat':
      cluster.tick(target, cluster.heartbeatTicks);
      break;
    case 'tick':
      cluster.tick(target, Number(positional[1]));
      break;
    case 'propose':
      try {
        const placement = cluster
          .core(target)
          .propose(positional.slice(1).map((word) => encoder.encode(word)));
        cluster.log(`ok ${placement.firstIndex}..${placement.lastIndex}`);
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
        cluster.log(`error ${error.code}: ${error.message}`);
      }
      break;
    case 'propose-settings': {
      const current = cluster.core(target).status().settings;
      cluster.core(target).proposeSettings({
        preVote: booleanOption(named, 'prevote') ?? current.preVote,
        checkQuorum: booleanOption(named, 'checkquorum') ?? current.checkQuorum,
      });
      break;
    }
    case 'add-server':
      for (const id of positional) cluster.addServer(id);
      break;
    case 'change-membership':
      logOutcome(cluster, () =>
        cluster.core(target).changeMembership({
          voters: idList(named.get('voters')),
          learners: idList(named.get('learners')),
        }),
      );
      break;
    case 'propose-configuration':
      logOutcome(cluster, () =>
        cluster.core(target).proposeConfiguration({
          voters: idList(named.get('voters')),
          outgoingVoters: idList(named.get('outgoing')),
          learners: idList(named.get('learners')),
          addresses: {},
        }),
      );
      break;
    case 'configuration':
      for (const id of positional.length > 0 ? positional : [...cluster.servers.keys()]) {
        describeConfiguration(cluster, id);
      }
      break;
    case 'read-index':
      try {
        cluster.core(target).readIndex(Number(positional[1]));
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
        cluster.log(`error ${error.code}: ${error.message}`);
      }
      break;
    case 'lease-read':
      cluster.log(`lease index=${cluster.core(target).leaseReadIndex() ?? 'none'}`);
      break;
    case 'transfer-leadership':
      cluster.core(target).transferLeadership(positional[1] ?? '');
      break;
    case 'partition': {
      const bar = positional.indexOf('|');
      cluster.partition(positional.slice(0, bar), positional.slice(bar + 1));
      break;
    }
    case 'isolate':
      cluster.isolate(target);
      break;
    case 'heal':
      cluster.heal();
      break;
    case 'restart':
      cluster.restart(target);
      break;
    case 'snapshot':
      try {
        cluster.snapshot(target, Number(named.get('compact') ?? positional[1]));
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
        cluster.log(`error ${error.code}: ${error.message}`);
      }
      break;
    case 'wipe':
      cluster.wipe(target);
      break;
    case 'status':
      for (const id of positional.length > 0 ? positional : [...cluster.servers.keys()]) {
        describeStatus(cluster, id);
      }
      break;
    case 'log': {
      const status = cluster.core(target).status();
      const entries = [];
      for (let index = status.snapshotIndex + 1; index <= status.lastIndex; index++) {
        entries.push(formatEntry(cluster.core(target).entry(index)!));
      }
      const marker = status.snapshotIndex > 0 ? `snapshot=${status.snapshotIndex} ` : '';
      cluster.log(`${target}: ${marker}[${entries.join(' ')}] commit=${status.commitIndex}`);
      break;
    }
    default:
      throw new Error(`unknown command ${name}`);
  }
  return { cluster, output: cluster.takeOutput() };
}

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
function setUp(named: Map<string, string>, coreFactory: CoreFactory | undefined): CoreCluster {
  const voters = idList(named.get('voters'));
  if (voters.length === 0) throw new Error('setup: voters=1,2,… is required');
  requireNumbered('voters', voters, 1);
  const learners = idList(named.get('learners'));
  requireNumbered('learners', learners, voters.length + 1);
  const leader = named.get('leader') ?? voters[0]!;
  if (!voters.includes(leader)) throw new Error(`setup: leader ${leader} is not a voter`);
  const options = { ...clusterOptions(voters.length, named), learners: learners.length };
  const cluster = new CoreCluster(
    coreFactory === undefined ? options : { ...options, coreFactory },
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
}

/** `1,2,3` as ids; absent or empty as none. */
function idList(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(',');
}

/** Runs a proposal and logs where it went, or the error code it was refused with. */
function logOutcome(
  cluster: CoreCluster,
  propose: () => { firstIndex: number; lastIndex: number },
) {
  try {
    const placement = propose();
    cluster.log(`ok ${placement.firstIndex}..${placement.lastIndex}`);
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
    cluster.log(`error ${error.code}: ${error.message}`);
  }
}

function describeConfiguration(cluster: CoreCluster, id: string): void {
  const core = cluster.core(id);
  const show = (ids: readonly string[]): string => (ids.length === 0 ? '-' : ids.join(','));
  const { configuration } = core;
  const joint =
    configuration.outgoingVoters.length === 0
      ? ''
      : ` outgoing=${show(configuration.outgoingVoters)}`;
  cluster.log(
    `${id}: voters=${show(configuration.voters)}${joint} learners=${show(configuration.learners)} index=${core.configurationIndex} committed=${core.committedConfiguration.index}`,
  );
}

function describeStatus(cluster: CoreCluster, id: string): void {
  const status = cluster.core(id).status();
  cluster.log(
    `${id}: ${status.role} term=${status.term} leader=${status.leaderId ?? 'none'} vote=${status.vote ?? 'none'} last=${status.lastIndex}/${status.lastTerm} commit=${status.commitIndex}${status.snapshotIndex > 0 ? ` snapshot=${status.snapshotIndex}` : ''}`,
  );
  for (const peer of status.progress) {
    if (peer.id === id) continue;
    cluster.log(
      `  ${peer.id}: match=${peer.match} next=${peer.next} ${peer.state}${peer.state === 'snapshot' ? `=${peer.pendingSnapshot}` : ''} inflight=${peer.inflightMessages}`,
    );
  }
}
