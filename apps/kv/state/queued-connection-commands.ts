/**
 * Connection commands that Redis lets a client queue inside MULTI and whose reply depends on
 * nothing but their arguments: PING, ECHO, SELECT and UNWATCH. A transaction carries them in its
 * log entry like data commands, and every server answers them at apply time, so their replies
 * take their place in the EXEC array as in Redis. The connection answers the same commands
 * outside a transaction with the same functions.
 */
import { bulkReply, errorReply, okReply, simpleStringReply } from '../resp/resp-writer.js';
import { notIntegerMessage, parseInt64 } from './arguments.js';

/** A command answered from its arguments alone. */
export interface QueuedConnectionCommand {
  /** Redis convention: N means exactly N arguments (name included), -N means at least N. */
  readonly arity: number;
  readonly reply: (args: readonly Uint8Array[]) => Buffer;
}

const pongReply = simpleStringReply('PONG');

/** `PING [message]`. */
export function ping(args: readonly Uint8Array[]): Buffer {
  if (args.length > 2) return errorReply("ERR wrong number of arguments for 'ping' command");
  return args.length === 2 ? bulkReply(args[1]!) : pongReply;
}

/** `SELECT index`: there is one keyspace, database 0; clients that select it explicitly work. */
export function select(args: readonly Uint8Array[]): Buffer {
  const index = parseInt64(args[1]!);
  if (index === null) return errorReply(notIntegerMessage);
  return index === 0n ? okReply : errorReply('ERR DB index is out of range');
}

const commands: ReadonlyMap<string, QueuedConnectionCommand> = new Map([
  ['PING', { arity: -1, reply: ping }],
  ['ECHO', { arity: 2, reply: (args: readonly Uint8Array[]) => bulkReply(args[1]!) }],
  ['SELECT', { arity: 2, reply: select }],
  // Inside MULTI the watched keys were already checked when EXEC ran: nothing is left to do.
  ['UNWATCH', { arity: 1, reply: () => okReply }],
]);

/** The command by upper-case name if it may be queued inside MULTI, else undefined. */
export function queuedConnectionCommand(name: string): QueuedConnectionCommand | undefined {
  return commands.get(name);
}
