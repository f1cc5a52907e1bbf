/**
 * Commands about the connection itself: AUTH, HELLO, CLIENT, READONLY / READWRITE.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import {
  arrayReply,
  bulkReply,
  errorReply,
  integerReply,
  nullReply,
  okReply,
} from '../resp/resp-writer.js';
import type { ClientRegistry } from './client-registry.js';
import type { ConnectionState, ServerContext } from './server-context.js';

/** The only user there is; Redis calls it `default` too. */
const defaultUser = 'default';
const wrongPassword = errorReply('WRONGPASS invalid username-password pair or user is disabled.');

/** Compares without leaking, through timing, how much of the password was right. */
function passwordMatches(expected: string, given: Buffer): boolean {
  const digest = (bytes: Buffer | string): Buffer => createHash('sha256').update(bytes).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function checkCredentials(
  user: Buffer | null,
  password: Buffer,
  context: ServerContext,
  connection: ConnectionState,
): Buffer | null {
  if (context.password === null) {
    return errorReply(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  const userMatches = user === null || user.toString('utf8') === defaultUser;
  if (!userMatches || !passwordMatches(context.password, password)) return wrongPassword;
  connection.authenticated = true;
  return null;
}

/** `AUTH password` or `AUTH default password`. */
export function authenticate(
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Buffer {
  if (args.length !== 2 && args.length !== 3) return errorReply('ERR syntax error');
  const user = args.length === 3 ? args[1]! : null;
  return checkCredentials(user, args.at(-1)!, context, connection) ?? okReply;
}

/**
 * `HELLO [protover [AUTH user password] [SETNAME name]]`. Only RESP2 is spoken: HELLO 3 gets
 * `-NOPROTO`, which clients take as "stay on RESP2".
 */
export function hello(
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Buffer {
  if (args.length > 1) {
    const version = args[1]!.toString('latin1');
    if (!/^\d+$/.test(version)) {
      return errorReply('ERR Protocol version is not an integer or out of range');
    }
    if (version !== '2') return errorReply('NOPROTO unsupported protocol version');
  }
  let name: string | null = null;
  for (let position = 2; position < args.length; position++) {
    const option = args[position]!.toString('latin1').toUpperCase();
    if (option === 'AUTH' && position + 2 < args.length) {
      const refused = checkCredentials(
        args[position + 1]!,
        args[position + 2]!,
        context,
        connection,
      );
      if (refused !== null) return refused;
      position += 2;
    } else if (option === 'SETNAME' && position + 1 < args.length) {
      name = args[++position]!.toString('utf8');
    } else {
      return errorReply(`ERR Syntax error in HELLO option '${option.toLowerCase()}'`);
    }
  }
  if (!connection.authenticated) {
    return errorReply(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (name !== null) connection.name = name;
  const role = context.node.role === 'leader' ? 'master' : 'replica';
  const fields: [string, Buffer][] = [
    ['server', bulkReply('redis')],
    ['version', bulkReply('7.0.0')],
    ['proto', integerReply(2)],
    ['id', integerReply(connection.id)],
    ['mode', bulkReply('standalone')],
    ['role', bulkReply(role)],
    ['modules', arrayReply([])],
  ];
  return arrayReply(fields.flatMap(([field, value]) => [bulkReply(field), value]));
}

/** READONLY: this connection reads this server's state as it is (stale reads on a follower). */
export function readOnly(
  _args: readonly Buffer[],
  _context: ServerContext,
  connection: ConnectionState,
): Buffer {
  connection.consistency = 'stale';
  return okReply;
}

/** READWRITE: back to the server's default read consistency. */
export function readWrite(
  _args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Buffer {
  connection.consistency = context.defaultConsistency;
  return okReply;
}

/** One line of CLIENT LIST, in Redis's field order for the fields that mean something here. */
function clientLine(state: ConnectionState, nowMs: number): string {
  const ageSeconds = Math.floor((nowMs - state.createdAtMs) / 1000);
  const idleSeconds = Math.floor((nowMs - state.lastActivityMs) / 1000);
  const flags = `${state.inTransaction ? 'x' : ''}${state.watched.size > 0 ? 'w' : ''}` || 'N';
  return [
    `id=${state.id}`,
    `addr=${state.address}`,
    `laddr=${state.localAddress}`,
    `name=${state.name ?? ''}`,
    `age=${ageSeconds}`,
    `idle=${idleSeconds}`,
    `flags=${flags}`,
    'db=0',
    `watch=${state.watched.size}`,
    `cmd=${state.lastCommand?.toLowerCase() ?? 'NULL'}`,
    `user=${defaultUser}`,
    `consistency=${state.consistency}`,
  ].join(' ');
}

/** The client types Redis names in `CLIENT KILL TYPE`. */
const clientTypes = new Set(['normal', 'master', 'replica', 'slave', 'pubsub']);

/**
 * `CLIENT KILL addr` (old form) or
 * `CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [USER name] [TYPE type] [SKIPME yes|no]`.
 */
function clientKill(
  args: readonly Buffer[],
  clients: ClientRegistry,
  self: ConnectionState,
): Buffer {
  if (args.length === 3) {
    const address = args[2]!.toString('latin1');
    const killed = clients.kill((state) => state.address === address);
    return killed > 0 ? okReply : errorReply('ERR No such client');
  }
  if (args.length % 2 !== 0) return errorReply('ERR syntax error');
  const filters: ((state: ConnectionState) => boolean)[] = [];
  let skipSelf = true;
  for (let position = 2; position < args.length; position += 2) {
    const option = args[position]!.toString('latin1').toUpperCase();
    const value = args[position + 1]!.toString('latin1');
    if (option === 'ID') {
      if (!/^\d+$/.test(value)) return errorReply('ERR client-id should be greater than 0');
      filters.push((state) => state.id === Number(value));
    } else if (option === 'ADDR') {
      filters.push((state) => state.address === value);
    } else if (option === 'LADDR') {
      filters.push((state) => state.localAddress === value);
    } else if (option === 'USER') {
      filters.push(() => value === defaultUser);
    } else if (option === 'TYPE' && clientTypes.has(value.toLowerCase())) {
      // Every connection is a normal client: no replicas or pub/sub connect here.
      filters.push(() => value.toLowerCase() === 'normal');
    } else if (option === 'SKIPME' && (value === 'yes' || value === 'no')) {
      skipSelf = value === 'yes';
    } else {
      return errorReply('ERR syntax error');
    }
  }
  return integerReply(
    clients.kill(
      (state) => !(skipSelf && state.id === self.id) && filters.every((filter) => filter(state)),
    ),
  );
}

/** CLIENT LIST / KILL / SETNAME / GETNAME / ID / INFO, and the no-ops clients send. */
export function client(
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Buffer {
  const subcommand = args[1]!.toString('latin1').toUpperCase();
  const nowMs = Date.now();
  switch (subcommand) {
    case 'SETNAME': {
      if (args.length !== 3)
        return errorReply("ERR wrong number of arguments for 'client|setname' command");
      const name = args[2]!.toString('utf8');
      if (/[\s]/.test(name))
        return errorReply(
          'ERR Client names cannot contain spaces, newlines or special characters.',
        );
      connection.name = name === '' ? null : name;
      return okReply;
    }
    case 'GETNAME':
      return connection.name === null ? nullReply : bulkReply(connection.name);
    case 'ID':
      return integerReply(connection.id);
    case 'INFO':
      return bulkReply(`${clientLine(connection, nowMs)}\n`);
    case 'LIST':
      return bulkReply(
        context.clients
          .list()
          .map((registered) => `${clientLine(registered.state, nowMs)}\n`)
          .join(''),
      );
    case 'KILL':
      if (args.length < 3)
        return errorReply("ERR wrong number of arguments for 'client|kill' command");
      return clientKill(args, context.clients, connection);
    // Client libraries announce themselves or tune reply behaviour Redis-side; nothing to do here.
    case 'SETINFO':
    case 'NO-EVICT':
    case 'NO-TOUCH':
      return okReply;
    default:
      return errorReply(`ERR CLIENT ${subcommand.toLowerCase()} is not supported`);
  }
}
