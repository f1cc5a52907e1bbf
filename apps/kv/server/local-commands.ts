import { dataCommandNames, dataCommandSpec } from '../state/kv-commands.js';
import { ping, select } from '../state/queued-connection-commands.js';
import { arrayReply, bulkReply, integerReply, nullReply, okReply } from '../resp/resp-writer.js';
import { client, readOnly, readWrite } from './connection-commands.js';
import { raftCommand } from './raft-command.js';
import type { ConnectionState, ServerContext } from './server-context.js';
import { config, info } from './server-info.js';
import { wait } from './wait-command.js';

type LocalHandler = (
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
) => Buffer | Promise<Buffer>;

/** Commands answered by the server itself, never through the log; with their arity. */
const localCommands = new Map<string, { arity: number; handler: LocalHandler }>([
  ['PING', { arity: -1, handler: ping }],
  ['ECHO', { arity: 2, handler: (args) => bulkReply(args[1]!) }],
  ['QUIT', { arity: -1, handler: quit }],
  ['SELECT', { arity: 2, handler: select }],
  ['INFO', { arity: -1, handler: (args, context) => info(args, context) }],
  ['COMMAND', { arity: -1, handler: command }],
  ['CLIENT', { arity: -2, handler: client }],
  ['CONFIG', { arity: -2, handler: (args, context) => config(args, context) }],
  ['READONLY', { arity: 1, handler: readOnly }],
  ['READWRITE', { arity: 1, handler: readWrite }],
  ['WAIT', { arity: 3, handler: wait }],
  ['RAFT', { arity: -2, handler: raftCommand }],
]);

/** Answered by the connection as it parses (transactions, authentication), with their arity. */
const connectionCommands: ReadonlyMap<string, number> = new Map([
  ['MULTI', 1],
  ['EXEC', 1],
  ['DISCARD', 1],
  ['WATCH', -2],
  ['UNWATCH', 1],
  ['AUTH', -2],
  ['HELLO', -1],
]);

/** Every command name the server accepts (upper case): data, local and connection commands. */
export function acceptedCommandNames(): string[] {
  return [...dataCommandNames, ...localCommands.keys(), ...connectionCommands.keys()];
}

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

/** One COMMAND entry: name, arity, flags, first key, last key, step. */
function commandEntry(name: string): Buffer {
  const spec = dataCommandSpec(name);
  const arity = spec?.arity ?? localCommands.get(name)?.arity ?? connectionCommands.get(name) ?? 0;
  const flags =
    spec === undefined ? ['fast'] : spec.kind === 'write' ? ['write'] : ['readonly', 'fast'];
  const keys = spec?.keys ?? { first: 0, last: 0, step: 0 };
  return arrayReply([
    bulkReply(name.toLowerCase()),
    integerReply(arity),
    arrayReply(flags.map((flag) => bulkReply(flag))),
    integerReply(keys.first),
    integerReply(keys.last),
    integerReply(keys.step),
  ]);
}

function command(args: readonly Buffer[]): Buffer {
  const names = acceptedCommandNames();
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
