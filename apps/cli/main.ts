#!/usr/bin/env node
import { createRequire } from 'node:module';
import { formatErrorChain } from 'raftkit';
import {
  UsageError,
  choiceOption,
  formatUsage,
  integerOption,
  parseCommandLine,
  stringOption,
  type CommandSpec,
  type ParsedCommand,
} from './cli-arguments.js';
import {
  askAny,
  askLeader,
  knownMembers,
  replyText,
  type ClusterTarget,
} from './cluster-client.js';
import { healCluster, isolateServer } from './cluster-faults.js';
import { clusterAdd, clusterRemove, clusterStartNode, clusterStopNode } from './cluster-members.js';
import { snapshotServers } from './cluster-snapshot.js';
import { clusterStart } from './cluster-start.js';
import { formatTable } from './format-table.js';
import type { StatusDocument } from '../kv/server/status-document.js';
import { loadSecondsMax, runLoad } from './load-command.js';
import { layoutMembersMax } from '../kv/cluster-layout.js';

const readOptions = ['dir', 'server', 'json'] as const;

/** Every command of the CLI; the usage text and the argument checks come from this table. */
const commands: readonly CommandSpec[] = [
  {
    words: ['cluster', 'start'],
    arguments: [],
    options: [
      'dir',
      'nodes',
      'base-port',
      'tick-ms',
      'consistency',
      'log-format',
      'dashboard-port',
    ],
    summary: 'start a local cluster of server processes and its dashboard; Ctrl-C stops it',
  },
  {
    words: ['cluster', 'add'],
    arguments: [],
    options: ['dir'],
    summary:
      'start one more server (detached, its log in its data directory), add it as a learner, promote it once caught up',
  },
  {
    words: ['cluster', 'remove'],
    arguments: ['<id>'],
    options: ['dir'],
    summary: 'remove <id> from the cluster, whether it runs or not, and stop its process',
  },
  {
    words: ['cluster', 'stop-node'],
    arguments: ['<id>'],
    options: ['dir'],
    summary: 'stop the server of <id>; it stays a member',
  },
  {
    words: ['cluster', 'start-node'],
    arguments: ['<id>'],
    options: ['dir'],
    summary: 'start the server of <id> again (detached), on its data',
  },
  {
    words: ['cluster', 'partition'],
    arguments: ['<id>'],
    options: ['dir', 'server'],
    summary: 'cut <id> off from the other servers (local cluster only)',
  },
  {
    words: ['cluster', 'heal'],
    arguments: [],
    options: ['dir', 'server'],
    summary: 'lift every partition',
  },
  {
    words: ['load'],
    arguments: [],
    options: ['dir', 'server', 'seconds', 'clients'],
    summary: 'write to the cluster and print writes/s and latency each second',
  },
  {
    words: ['status'],
    arguments: [],
    options: readOptions,
    summary: "every member's role, term, indexes and lag",
  },
  {
    words: ['members'],
    arguments: [],
    options: readOptions,
    summary: 'the voters and learners with their addresses (learners: voter false)',
  },
  { words: ['leader'], arguments: [], options: readOptions, summary: 'the current leader' },
  {
    words: ['transfer'],
    arguments: ['<id>'],
    options: ['dir', 'server'],
    summary: 'hand leadership to <id>',
  },
  {
    words: ['snapshot'],
    arguments: [],
    optionalArguments: ['<id>'],
    options: ['dir', 'server'],
    summary: 'take a snapshot now on <id>, or on every running server',
  },
  {
    words: ['settings'],
    arguments: [],
    optionalArguments: ['prevote|checkquorum', 'on|off'],
    options: readOptions,
    summary: 'show PreVote and CheckQuorum, or change one through the log',
  },
];

const usage =
  formatUsage(commands) +
  '\n\nRead commands find the cluster through --dir (default ./data) or --server host:port.';

const print = (line: string): void => {
  process.stdout.write(line + '\n');
};

/** The version of the installed package, read from its own package.json. */
function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('raftkit/package.json') as { version: string };
  return manifest.version;
}

/** What a command needs to find the cluster. */
function targetOf(values: ParsedCommand['values']): ClusterTarget {
  const server = values.server;
  return {
    directory: stringOption(values, 'dir', './data'),
    ...(typeof server === 'string' ? { server } : {}),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const parsed = parseCommandLine(argv, commands);
  if (parsed === null) {
    if (argv.includes('--version')) print(packageVersion());
    else print(usage);
    return;
  }
  const { values } = parsed;
  const target = targetOf(values);
  const json = values.json === true;
  const rest = parsed.arguments;
  switch (parsed.spec.words.join(' ')) {
    case 'cluster start':
      return startCluster(values);
    case 'cluster add':
      await clusterAdd({ directory: target.directory, print });
      return;
    case 'cluster remove':
      await clusterRemove({ directory: target.directory, print }, rest[0]!);
      return;
    case 'cluster stop-node':
      return clusterStopNode({ directory: target.directory, print }, rest[0]!);
    case 'cluster start-node':
      return clusterStartNode({ directory: target.directory, print }, rest[0]!);
    case 'cluster partition':
      print(await isolateServer(await knownMembers(target), rest[0]!));
      return;
    case 'cluster heal':
      print(await healCluster(await knownMembers(target)));
      return;
    case 'load':
      return runLoad({
        members: await knownMembers(target),
        seconds: integerOption(values, 'seconds', { min: 1, max: loadSecondsMax, fallback: 10 }),
        clients: integerOption(values, 'clients', { min: 1, max: 1024, fallback: 8 }),
        print,
      });
    case 'status':
      return status(target, json);
    case 'members':
      return members(target, json);
    case 'leader': {
      const { reply } = await askAny(await knownMembers(target), ['RAFT', 'LEADER']);
      const leader =
        reply.type === 'array' && reply.value !== null
          ? { id: replyText(reply.value[0]!), client: replyText(reply.value[1]!) }
          : null;
      print(
        json
          ? JSON.stringify(leader)
          : leader === null
            ? 'no leader'
            : `${leader.id} ${leader.client}`,
      );
      return;
    }
    case 'transfer': {
      const reply = await askLeader(await knownMembers(target), ['RAFT', 'TRANSFER', rest[0]!]);
      print(`${replyText(reply)}: ${rest[0]} leads`);
      return;
    }
    case 'settings':
      return settings(target, rest, json);
    case 'snapshot':
      for (const line of await snapshotServers(await knownMembers(target), rest[0] ?? null)) {
        print(line);
      }
      return;
    default:
      throw new UsageError(`unknown command '${parsed.spec.words.join(' ')}'`);
  }
}

async function startCluster(values: ParsedCommand['values']): Promise<void> {
  // Every value is checked here, before the cluster directory or its layout is written.
  const nodes = integerOption(values, 'nodes', { min: 1, max: layoutMembersMax, fallback: 3 });
  const basePort =
    values['base-port'] === undefined
      ? null
      : integerOption(values, 'base-port', { min: 1024, max: 65_000, fallback: 7001 });
  const tickMs =
    values['tick-ms'] === undefined
      ? undefined
      : integerOption(values, 'tick-ms', { min: 1, max: 60_000, fallback: 100 });
  const consistency = choiceOption(values, 'consistency', ['linearizable', 'lease', 'stale']);
  const logFormat = choiceOption(values, 'log-format', ['text', 'json']);
  const dashboardPort =
    values['dashboard-port'] === undefined
      ? null
      : integerOption(values, 'dashboard-port', { min: 0, max: 65_535, fallback: 0 });
  const serverArgs = [
    ...(tickMs === undefined ? [] : ['--tick-ms', String(tickMs)]),
    ...(consistency === undefined ? [] : ['--consistency', consistency]),
    ...(logFormat === undefined ? [] : ['--log-format', logFormat]),
  ];
  await clusterStart({
    nodes,
    directory: stringOption(values, 'dir', './data'),
    basePort,
    dashboardPort,
    serverArgs,
    print,
  });
}

async function settings(
  target: ClusterTarget,
  rest: readonly string[],
  json: boolean,
): Promise<void> {
  const known = await knownMembers(target);
  if (rest.length === 0) {
    const { reply } = await askAny(known, ['RAFT', 'SETTINGS']);
    const current = JSON.parse(replyText(reply)) as Record<string, boolean>;
    print(
      json
        ? JSON.stringify(current)
        : Object.entries(current)
            .map(([name, on]) => `${name.toLowerCase()}: ${on ? 'on' : 'off'}`)
            .join('\n'),
    );
    return;
  }
  if (rest.length !== 2 || !['prevote', 'checkquorum'].includes(rest[0]!)) {
    throw new UsageError('usage: raftkit settings prevote|checkquorum on|off');
  }
  if (!['on', 'off'].includes(rest[1]!)) {
    throw new UsageError(`settings ${rest[0]} takes on or off, got '${rest[1]}'`);
  }
  print(replyText(await askLeader(known, ['RAFT', 'SETTINGS', ...rest])));
}

/** The fields of a server's status document that `raftkit status` shows. */
type StatusFields = Pick<
  StatusDocument,
  | 'id'
  | 'role'
  | 'term'
  | 'leaderId'
  | 'commitIndex'
  | 'appliedIndex'
  | 'lastIndex'
  | 'snapshotIndex'
  | 'keys'
  | 'progress'
>;

async function status(target: ClusterTarget, json: boolean): Promise<void> {
  const known = await knownMembers(target);
  const documents = await Promise.all(
    known.map(async (member) => {
      try {
        const { reply } = await askAny([member], ['RAFT', 'STATUS']);
        return { member, status: JSON.parse(replyText(reply)) as StatusFields, error: null };
      } catch (error) {
        return {
          member,
          status: null,
          error: error instanceof Error ? error.message : String(error),
        };
      }
    }),
  );
  if (json) {
    print(
      JSON.stringify(
        documents.map(({ member, status: document, error }) => ({
          id: member.id,
          client: member.client,
          reachable: document !== null,
          ...(document === null ? { error } : { status: document }),
        })),
        null,
        2,
      ),
    );
    failWhenNoneAnswered(documents);
    return;
  }
  const lagOf = new Map<string, number>();
  for (const { status: document } of documents) {
    if (document?.role === 'leader') {
      for (const peer of document.progress) lagOf.set(peer.id, peer.lag);
    }
  }
  const rows = documents.map(({ member, status: document }) =>
    document === null
      ? [member.id, member.client, 'down', '', '', '', '', '', '', '', '']
      : [
          member.id,
          member.client,
          document.role,
          String(document.term),
          document.leaderId ?? '-',
          String(document.commitIndex),
          String(document.appliedIndex),
          document.role === 'leader' ? '0' : String(lagOf.get(member.id) ?? '?'),
          String(document.snapshotIndex),
          // Entries held in the log: what a restart replays after the snapshot.
          String(document.lastIndex - document.snapshotIndex),
          String(document.keys),
        ],
  );
  print(
    formatTable(
      [
        'ID',
        'CLIENT',
        'ROLE',
        'TERM',
        'LEADER',
        'COMMIT',
        'APPLIED',
        'LAG',
        'SNAPSHOT',
        'LOG',
        'KEYS',
      ],
      rows,
    ),
  );
  failWhenNoneAnswered(documents);
}

/** A status where every server is down is a failure for scripts, after the table is shown. */
function failWhenNoneAnswered(documents: readonly { readonly error: string | null }[]): void {
  if (documents.every((document) => document.error !== null)) {
    throw new Error('no server answered; is the cluster running?');
  }
}

async function members(target: ClusterTarget, json: boolean): Promise<void> {
  const { reply } = await askAny(await knownMembers(target), ['RAFT', 'MEMBERS']);
  const list = JSON.parse(replyText(reply)) as {
    id: string;
    voter: boolean;
    leader: boolean;
    client: string | null;
    raft: string | null;
    http: string | null;
  }[];
  if (json) {
    // The documented shape only: the leader's answer carries replication progress too.
    const shaped = list.map(({ id, voter, leader, client, raft, http }) => ({
      id,
      voter,
      leader,
      client,
      raft,
      http,
    }));
    print(JSON.stringify(shaped, null, 2));
    return;
  }
  print(
    formatTable(
      ['ID', 'KIND', 'LEADER', 'CLIENT', 'RAFT', 'HTTP'],
      list.map((member) => [
        member.id,
        member.voter ? 'voter' : 'learner',
        member.leader ? 'yes' : '',
        member.client ?? '',
        member.raft ?? '',
        member.http ?? '',
      ]),
    ),
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`raftkit: ${error.message}\n\n${usage}\n`);
    process.exit(2);
  }
  process.stderr.write(`raftkit: ${formatErrorChain(error)}\n`);
  process.exit(1);
});
