import type { CoreCluster, CoreFactory } from './core-cluster.js';
import { formatEntry } from '../../core/format.js';
import { RaftError, type ProposalPlacement } from '../../core/index.js';
import {
  booleanOption,
  idList,
  parseArguments,
  type CommandArguments,
} from './script-arguments.js';
import { addNodes, setUp, type ClusterBuilder } from './script-setup.js';

/** Acts on the script's cluster; what it prints goes to `cluster.log`. */
type CommandHandler = (cluster: CoreCluster, args: CommandArguments) => void;

/** The commands that start a new cluster. */
const builders: Readonly<Record<string, ClusterBuilder>> = {
  'add-nodes': addNodes,
  setup: setUp,
};

const encoder = new TextEncoder();

/** One handler per command: adding a command is adding an entry here. */
const handlers: Readonly<Record<string, CommandHandler>> = {
  campaign: (cluster, { target }) => cluster.core(target).campaign(),
  stabilize: (cluster) => cluster.stabilize(),
  'process-ready': (cluster, { positional }) => {
    for (const id of positional) cluster.processReady(id);
  },
  'deliver-msgs': (cluster, { target }) => {
    cluster.deliver(target === '' ? {} : { to: target });
  },
  'drop-msgs': (cluster, { named }) => {
    const from = named.get('from');
    const to = named.get('to');
    cluster.dropMessages({
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
  },
  'tick-election': (cluster, { target }) => cluster.tick(target, cluster.electionTicks),
  'tick-heartbeat': (cluster, { target }) => cluster.tick(target, cluster.heartbeatTicks),
  tick: (cluster, { target, positional }) => cluster.tick(target, Number(positional[1])),
  propose: (cluster, { target, positional }) =>
    logPlacement(cluster, () =>
      cluster.core(target).propose(positional.slice(1).map((word) => encoder.encode(word))),
    ),
  'propose-settings': (cluster, { target, named }) => {
    const current = cluster.core(target).status().settings;
    const placement = cluster.core(target).proposeSettings({
      preVote: booleanOption(named, 'prevote') ?? current.preVote,
      checkQuorum: booleanOption(named, 'checkquorum') ?? current.checkQuorum,
    });
    if (!placement.placed) throw placement.error;
  },
  'add-server': (cluster, { positional }) => {
    for (const id of positional) cluster.addServer(id);
  },
  'change-membership': (cluster, { target, named }) =>
    logPlacement(cluster, () =>
      cluster.core(target).changeMembership({
        voters: idList(named.get('voters')),
        learners: idList(named.get('learners')),
      }),
    ),
  'propose-configuration': (cluster, { target, named }) =>
    logPlacement(cluster, () =>
      cluster.core(target).proposeConfiguration({
        voters: idList(named.get('voters')),
        outgoingVoters: idList(named.get('outgoing')),
        learners: idList(named.get('learners')),
        addresses: {},
      }),
    ),
  configuration: (cluster, { positional }) => {
    for (const id of serversOrAll(cluster, positional)) describeConfiguration(cluster, id);
  },
  'read-index': (cluster, { target, positional }) =>
    logRefusal(cluster, () => cluster.core(target).readIndex(Number(positional[1]))),
  'lease-read': (cluster, { target }) => {
    cluster.log(`lease index=${cluster.core(target).leaseReadIndex() ?? 'none'}`);
  },
  'transfer-leadership': (cluster, { target, positional }) =>
    cluster.core(target).transferLeadership(positional[1] ?? ''),
  partition: (cluster, { positional }) => {
    const bar = positional.indexOf('|');
    cluster.partition(positional.slice(0, bar), positional.slice(bar + 1));
  },
  isolate: (cluster, { target }) => cluster.isolate(target),
  heal: (cluster) => cluster.heal(),
  restart: (cluster, { target }) => cluster.restart(target),
  snapshot: (cluster, { target, positional, named }) =>
    logRefusal(cluster, () =>
      cluster.snapshot(target, Number(named.get('compact') ?? positional[1])),
    ),
  wipe: (cluster, { target }) => cluster.wipe(target),
  status: (cluster, { positional }) => {
    for (const id of serversOrAll(cluster, positional)) describeStatus(cluster, id);
  },
  log: (cluster, { target }) => describeLog(cluster, target),
};

/**
 * Interprets one script line against a cluster held by the caller. Returns the cluster (a new one
 * for `add-nodes` and `setup`) and the output text. `coreFactory` builds the cores of a new
 * cluster (the mutation tests replay the scripts against a core with a planted bug).
 */
export function runScriptCommand(
  cluster: CoreCluster | null,
  command: string,
  coreFactory?: CoreFactory,
): { cluster: CoreCluster | null; output: string } {
  const [name = '', ...words] = command.trim().split(/\s+/);
  const args = parseArguments(words);
  const builder = own(builders, name);
  const current = builder === undefined ? cluster : builder(args, coreFactory);
  if (builder === undefined) {
    const handler = own(handlers, name);
    if (handler === undefined) throw new Error(`unknown command ${name}`);
    if (current === null) throw new Error('add-nodes or setup first');
    handler(current, args);
  }
  return { cluster: current, output: current?.takeOutput() ?? '' };
}

/** The table's entry for `name`, never one inherited from `Object.prototype` (`toString`). */
function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** The servers named, or every server when none is. */
function serversOrAll(cluster: CoreCluster, ids: readonly string[]): readonly string[] {
  return ids.length > 0 ? ids : [...cluster.servers.keys()];
}

/** Runs an input the core may refuse, and prints the refusal's code and message. */
function logRefusal(cluster: CoreCluster, input: () => void): void {
  try {
    input();
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
    cluster.log(`error ${error.code}: ${error.message}`);
  }
}

/**
 * Runs a proposal and prints where it went, or the error code it was refused with: a refusal the
 * core returns, or the INVALID_CONFIG it throws for a configuration that is not one.
 */
function logPlacement(cluster: CoreCluster, propose: () => ProposalPlacement): void {
  logRefusal(cluster, () => {
    const placement = propose();
    if (!placement.placed) throw placement.error;
    cluster.log(`ok ${placement.firstIndex}..${placement.lastIndex}`);
  });
}

function describeLog(cluster: CoreCluster, id: string): void {
  const status = cluster.core(id).status();
  const entries = [];
  for (let index = status.snapshotIndex + 1; index <= status.lastIndex; index++) {
    entries.push(formatEntry(cluster.core(id).entry(index)!));
  }
  const marker = status.snapshotIndex > 0 ? `snapshot=${status.snapshotIndex} ` : '';
  cluster.log(`${id}: ${marker}[${entries.join(' ')}] commit=${status.commitIndex}`);
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
