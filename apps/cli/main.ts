import { parseArgs } from 'node:util';
import {
  askAny,
  askLeader,
  knownMembers,
  replyText,
  type ClusterTarget,
} from './cluster-client.js';
import { healCluster, isolateServer } from './cluster-faults.js';
import { clusterStart } from './cluster-start.js';
import { runLoad } from './load-command.js';
import { formatTable } from './format-table.js';

const usage = `usage: raftkit <command> [options]

  cluster start [--nodes 3] [--dir ./data] [--base-port 7001] [--tick-ms 100] [--consistency linearizable|lease|stale]
                  [--dashboard-port 7000]
                  start a local cluster of server processes and its dashboard; Ctrl-C stops it
  cluster partition <id>  cut <id> off from the other servers (local cluster only)
  cluster heal            lift every partition
  load          [--seconds 10] [--clients 8]
                          write to the cluster and print writes/s and latency each second
  status        [--json]  every member's role, term, indexes and lag
  members       [--json]  the voters and learners with their addresses
  leader        [--json]  the current leader
  transfer <id>           hand leadership to <id>
  settings      [--json]  show PreVote and CheckQuorum
  settings prevote|checkquorum on|off
                          change a cluster-wide setting through the log

  Read commands find the cluster through --dir (default ./data) or --server host:port.`;

const print = (line: string): void => {
  process.stdout.write(line + '\n');
};

async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: '3' },
      dir: { type: 'string', default: './data' },
      'base-port': { type: 'string', default: '7001' },
      'tick-ms': { type: 'string' },
      'dashboard-port': { type: 'string' },
      seconds: { type: 'string', default: '10' },
      clients: { type: 'string', default: '8' },
      consistency: { type: 'string' },
      server: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  const target: ClusterTarget = {
    directory: values.dir,
    ...(values.server === undefined ? {} : { server: values.server }),
  };
  const json = values.json;
  if (values.help || command === undefined) {
    print(usage);
    return;
  }
  switch (command) {
    case 'cluster': {
      if (rest[0] === 'partition') {
        if (rest.length !== 2) throw new Error('usage: raftkit cluster partition <id>');
        print(await isolateServer(await knownMembers(target), rest[1]!));
        return;
      }
      if (rest[0] === 'heal') {
        print(await healCluster(await knownMembers(target)));
        return;
      }
      if (rest[0] !== 'start') throw new Error('usage: raftkit cluster start|partition|heal');
      const serverArgs = [
        ...(values['tick-ms'] === undefined ? [] : ['--tick-ms', values['tick-ms']]),
        ...(values.consistency === undefined ? [] : ['--consistency', values.consistency]),
      ];
      return clusterStart({
        nodes: Number(values.nodes),
        directory: values.dir,
        basePort: Number(values['base-port']),
        dashboardPort: Number(values['dashboard-port'] ?? Number(values['base-port']) - 1),
        serverArgs,
        print,
      });
    }
    case 'status':
      return status(target, json);
    case 'load':
      return runLoad({
        members: await knownMembers(target),
        seconds: Number(values.seconds),
        clients: Number(values.clients),
        print,
      });
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
      if (rest.length !== 1) throw new Error('usage: raftkit transfer <id>');
      const reply = await askLeader(await knownMembers(target), ['RAFT', 'TRANSFER', rest[0]!]);
      print(`${replyText(reply)}: ${rest[0]} leads`);
      return;
    }
    case 'settings': {
      const known = await knownMembers(target);
      if (rest.length === 0) {
        const { reply } = await askAny(known, ['RAFT', 'SETTINGS']);
        const settings = JSON.parse(replyText(reply)) as Record<string, boolean>;
        print(
          json
            ? JSON.stringify(settings)
            : Object.entries(settings)
                .map(([name, on]) => `${name.toLowerCase()}: ${on ? 'on' : 'off'}`)
                .join('\n'),
        );
        return;
      }
      if (rest.length !== 2) throw new Error('usage: raftkit settings prevote|checkquorum on|off');
      print(replyText(await askLeader(known, ['RAFT', 'SETTINGS', ...rest])));
      return;
    }
    default:
      throw new Error(`unknown command '${command}'\n\n${usage}`);
  }
}

interface StatusDocument {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leaderId: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly keys: number;
  readonly progress: readonly { id: string; lag: number; recentActive: boolean }[];
}

async function status(target: ClusterTarget, json: boolean): Promise<void> {
  const known = await knownMembers(target);
  const documents = await Promise.all(
    known.map(async (member) => {
      try {
        const { reply } = await askAny([member], ['RAFT', 'STATUS']);
        return { member, status: JSON.parse(replyText(reply)) as StatusDocument, error: null };
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
      ? [member.id, member.client, 'down', '', '', '', '', '', '']
      : [
          member.id,
          member.client,
          document.role,
          String(document.term),
          document.leaderId ?? '-',
          String(document.commitIndex),
          String(document.appliedIndex),
          document.role === 'leader' ? '0' : String(lagOf.get(member.id) ?? '?'),
          String(document.keys),
        ],
  );
  print(
    formatTable(
      ['ID', 'CLIENT', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAG', 'KEYS'],
      rows,
    ),
  );
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
    print(JSON.stringify(list, null, 2));
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
  process.stderr.write(`raftkit: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
