import { dataCommandArity, dataCommandKind, dataCommandNames } from '../state/kv-commands.js';
import {
  arrayReply,
  bulkReply,
  errorReply,
  integerReply,
  nullReply,
  okReply,
} from '../resp/resp-writer.js';
import { pongReply, raftCommand } from './raft-command.js';
import type { ConnectionState, ServerContext } from './server-context.js';

type LocalHandler = (
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
) => Buffer | Promise<Buffer>;

/** Commands answered by the server itself, never through the log; with their arity. */
const localCommands = new Map<string, { arity: number; handler: LocalHandler }>([
  ['PING', { arity: -1, handler: (args) => (args.length > 1 ? bulkReply(args[1]!) : pongReply) }],
  ['ECHO', { arity: 2, handler: (args) => bulkReply(args[1]!) }],
  ['QUIT', { arity: -1, handler: quit }],
  ['SELECT', { arity: 2, handler: select }],
  ['INFO', { arity: -1, handler: (_args, context) => bulkReply(info(context)) }],
  ['COMMAND', { arity: -1, handler: command }],
  ['CLIENT', { arity: -2, handler: client }],
  ['CONFIG', { arity: -2, handler: config }],
  ['RAFT', { arity: -2, handler: raftCommand }],
]);

/** Whether `name` (upper case) is answered locally. */
export function isLocalCommand(name: string): boolean {
  return localCommands.has(name);
}

/** The arity of a local command, for the connection's check. */
export function localCommandArity(name: string): number {
  return localCommands.get(name)?.arity ?? 0;
}

/** Runs a local command; arity is already checked. */
export function runLocalCommand(
  name: string,
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Buffer | Promise<Buffer> {
  return localCommands.get(name)!.handler(args, context, connection);
}

function quit(_args: readonly Buffer[], _context: ServerContext, connection: ConnectionState) {
  connection.closing = true;
  return okReply;
}

function select(args: readonly Buffer[]): Buffer {
  // One keyspace: database 0 exists so clients that select it explicitly work.
  return args[1]!.toString('latin1') === '0' ? okReply : errorReply('ERR DB index is out of range');
}

function client(
  args: readonly Buffer[],
  _context: ServerContext,
  connection: ConnectionState,
): Buffer {
  const subcommand = args[1]!.toString('latin1').toUpperCase();
  switch (subcommand) {
    case 'SETNAME':
      if (args.length !== 3)
        return errorReply("ERR wrong number of arguments for 'client|setname'");
      connection.name = args[2]!.toString('utf8');
      return okReply;
    case 'GETNAME':
      return connection.name === null ? nullReply : bulkReply(connection.name);
    case 'ID':
      return integerReply(connection.id);
    // Client libraries announce themselves or tune reply behaviour Redis-side; nothing to do here.
    case 'SETINFO':
    case 'NO-EVICT':
    case 'NO-TOUCH':
      return okReply;
    default:
      return errorReply(`ERR CLIENT ${subcommand.toLowerCase()} is not supported`);
  }
}

function config(args: readonly Buffer[]): Buffer {
  // redis-benchmark reads a few settings at start; there are none to report.
  if (args[1]!.toString('latin1').toUpperCase() === 'GET') return arrayReply([]);
  return errorReply('ERR CONFIG is read-only here and has no settings');
}

function commandEntry(name: string): Buffer {
  const kind = dataCommandKind(name);
  const arity = kind === null ? localCommandArity(name) : dataCommandArity(name);
  const flags = kind === 'write' ? ['write'] : kind === 'read' ? ['readonly', 'fast'] : ['fast'];
  const firstKey = kind === null || name === 'DBSIZE' ? 0 : 1;
  const lastKey = ['MGET', 'DEL', 'EXISTS'].includes(name) ? -1 : name === 'MSET' ? -1 : firstKey;
  return arrayReply([
    bulkReply(name.toLowerCase()),
    integerReply(arity),
    arrayReply(flags.map((flag) => bulkReply(flag))),
    integerReply(firstKey),
    integerReply(lastKey),
    integerReply(name === 'MSET' ? 2 : firstKey === 0 ? 0 : 1),
  ]);
}

function command(args: readonly Buffer[]): Buffer {
  const names = [...dataCommandNames, ...localCommands.keys()];
  const subcommand = args[1]?.toString('latin1').toUpperCase();
  if (subcommand === undefined) return arrayReply(names.map(commandEntry));
  if (subcommand === 'COUNT') return integerReply(names.length);
  if (subcommand === 'INFO') {
    return arrayReply(
      args.slice(2).map((arg) => {
        const name = arg.toString('latin1').toUpperCase();
        return names.includes(name) ? commandEntry(name) : nullReply;
      }),
    );
  }
  // COMMAND DOCS and friends: clients use them for hints only, an empty answer is enough.
  return arrayReply([]);
}

function info(context: ServerContext): string {
  const status = context.node.status();
  const uptimeSeconds = Math.floor((Date.now() - context.startedAtMs) / 1000);
  const sections = [
    '# Server',
    'redis_version:7.0.0',
    'raftkit_kv:1',
    `process_id:${process.pid}`,
    `uptime_in_seconds:${uptimeSeconds}`,
    '',
    '# Clients',
    `connected_clients:${context.metrics.connectionsOpen}`,
    '',
    '# Persistence',
    // Clients wait for loading:0 before their first command; the log replays before listening.
    'loading:0',
    '',
    '# Replication',
    `role:${status.role === 'leader' ? 'master' : 'slave'}`,
    '',
    '# Raft',
    `raft_id:${status.id}`,
    `raft_role:${status.role}`,
    `raft_term:${status.term}`,
    `raft_leader:${status.leaderId ?? ''}`,
    `raft_commit_index:${status.commitIndex}`,
    `raft_applied_index:${status.appliedIndex}`,
    `raft_last_index:${status.lastIndex}`,
    `raft_prevote:${status.settings.preVote ? 1 : 0}`,
    `raft_checkquorum:${status.settings.checkQuorum ? 1 : 0}`,
    '',
    '# Keyspace',
    `db0:keys=${context.stateMachine.size},expires=${context.stateMachine.expiringKeys},avg_ttl=0`,
    '',
  ];
  return sections.join('\r\n');
}
