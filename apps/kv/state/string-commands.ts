import {
  checkPairs,
  CommandError,
  fitsInt64,
  integerArgument,
  keyOf,
  notIntegerMessage,
  ownedCopy,
  parseDurationMs,
  parseInt64,
  parseSetOptions,
} from './arguments.js';
import { firstKey, keyValuePairs, type DataCommandSpec } from './command-spec.js';
import type { Keyspace } from './keyspace.js';
import { bulkReply, integerReply, nullReply, okReply } from '../resp/resp-writer.js';

/** The string value at `key`, null when absent; WRONGTYPE for another type. */
function stringAt(keyspace: Keyspace, key: string): Buffer | null {
  return keyspace.read(key, 'string')?.value ?? null;
}

function storeString(
  keyspace: Keyspace,
  key: string,
  value: Uint8Array,
  expiresAtMs: number | null | 'keep',
): void {
  keyspace.put(key, { type: 'string', value: ownedCopy(value) }, expiresAtMs);
}

function set(keyspace: Keyspace, args: readonly Uint8Array[]): Buffer {
  const options = parseSetOptions(args);
  if (typeof options === 'string') throw new CommandError(options);
  const key = keyOf(args[1]!);
  const previous = options.get ? stringAt(keyspace, key) : null;
  const exists = keyspace.get(key) !== undefined;
  if ((options.condition === 'nx' && exists) || (options.condition === 'xx' && !exists)) {
    return options.get ? bulkReply(previous) : nullReply;
  }
  const ttlMs = options.ttlMs;
  storeString(keyspace, key, args[2]!, typeof ttlMs === 'number' ? keyspace.timeMs + ttlMs : ttlMs);
  return options.get ? bulkReply(previous) : okReply;
}

function setWithExpiry(unitMs: number, command: string) {
  return (keyspace: Keyspace, args: readonly Uint8Array[]): Buffer => {
    const duration = parseDurationMs(args[2]!, unitMs, command);
    if (typeof duration === 'string') throw new CommandError(duration);
    storeString(keyspace, keyOf(args[1]!), args[3]!, keyspace.timeMs + duration);
    return okReply;
  };
}

function checkDuration(unitMs: number, command: string) {
  return (args: readonly Uint8Array[]): string | null => {
    const duration = parseDurationMs(args[2]!, unitMs, command);
    return typeof duration === 'string' ? duration : null;
  };
}

function incrementBy(keyspace: Keyspace, keyArgument: Uint8Array, amount: bigint): Buffer {
  const key = keyOf(keyArgument);
  const current = stringAt(keyspace, key);
  const value = current === null ? 0n : parseInt64(current);
  if (value === null) throw new CommandError(notIntegerMessage);
  const next = value + amount;
  if (!fitsInt64(next)) throw new CommandError('ERR increment or decrement would overflow');
  // INCR keeps the key's expiry, as Redis does.
  keyspace.put(key, { type: 'string', value: Buffer.from(next.toString(), 'latin1') }, 'keep');
  return integerReply(next);
}

function checkInteger(position: number) {
  return (args: readonly Uint8Array[]): string | null =>
    parseInt64(args[position]!) === null ? notIntegerMessage : null;
}

/** Strings: SET and its variants, GET and its variants, counters, APPEND, STRLEN, MSET/MGET. */
export const stringCommands: readonly DataCommandSpec[] = [
  {
    name: 'SET',
    kind: 'write',
    arity: -3,
    keys: firstKey,
    check: (args) => {
      const options = parseSetOptions(args);
      return typeof options === 'string' ? options : null;
    },
    run: set,
  },
  {
    name: 'SETNX',
    kind: 'write',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      if (keyspace.get(key) !== undefined) return integerReply(0);
      storeString(keyspace, key, args[2]!, null);
      return integerReply(1);
    },
  },
  {
    name: 'SETEX',
    kind: 'write',
    arity: 4,
    keys: firstKey,
    check: checkDuration(1000, 'setex'),
    run: setWithExpiry(1000, 'setex'),
  },
  {
    name: 'PSETEX',
    kind: 'write',
    arity: 4,
    keys: firstKey,
    check: checkDuration(1, 'psetex'),
    run: setWithExpiry(1, 'psetex'),
  },
  {
    name: 'GETSET',
    kind: 'write',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      const previous = stringAt(keyspace, key);
      storeString(keyspace, key, args[2]!, null);
      return bulkReply(previous);
    },
  },
  {
    name: 'GETDEL',
    kind: 'write',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      const previous = stringAt(keyspace, key);
      if (previous !== null) keyspace.delete(key);
      return bulkReply(previous);
    },
  },
  {
    name: 'MSET',
    kind: 'write',
    arity: -3,
    keys: keyValuePairs,
    check: checkPairs('mset', 1),
    run: (keyspace, args) => {
      for (let position = 1; position + 1 < args.length; position += 2) {
        storeString(keyspace, keyOf(args[position]!), args[position + 1]!, null);
      }
      return okReply;
    },
  },
  {
    name: 'MSETNX',
    kind: 'write',
    arity: -3,
    keys: keyValuePairs,
    check: checkPairs('msetnx', 1),
    run: (keyspace, args) => {
      for (let position = 1; position < args.length; position += 2) {
        if (keyspace.get(keyOf(args[position]!)) !== undefined) return integerReply(0);
      }
      for (let position = 1; position + 1 < args.length; position += 2) {
        storeString(keyspace, keyOf(args[position]!), args[position + 1]!, null);
      }
      return integerReply(1);
    },
  },
  {
    name: 'APPEND',
    kind: 'write',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      const value = Buffer.concat([stringAt(keyspace, key) ?? Buffer.alloc(0), args[2]!]);
      keyspace.put(key, { type: 'string', value }, 'keep');
      return integerReply(value.length);
    },
  },
  {
    name: 'INCR',
    kind: 'write',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => incrementBy(keyspace, args[1]!, 1n),
  },
  {
    name: 'DECR',
    kind: 'write',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => incrementBy(keyspace, args[1]!, -1n),
  },
  {
    name: 'INCRBY',
    kind: 'write',
    arity: 3,
    keys: firstKey,
    check: checkInteger(2),
    run: (keyspace, args) => incrementBy(keyspace, args[1]!, integerArgument(args[2]!)),
  },
  {
    name: 'DECRBY',
    kind: 'write',
    arity: 3,
    keys: firstKey,
    check: checkInteger(2),
    run: (keyspace, args) => incrementBy(keyspace, args[1]!, -integerArgument(args[2]!)),
  },
  {
    name: 'GET',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => bulkReply(stringAt(keyspace, keyOf(args[1]!))),
  },
  {
    name: 'MGET',
    kind: 'read',
    arity: -2,
    keys: { first: 1, last: -1, step: 1 },
    // MGET answers nil for a key of another type instead of WRONGTYPE, as Redis does.
    run: (keyspace, args) =>
      Buffer.concat([
        Buffer.from(`*${args.length - 1}\r\n`, 'latin1'),
        ...args.slice(1).map((key) => {
          const value = keyspace.get(keyOf(key))?.value;
          return bulkReply(value?.type === 'string' ? value.value : null);
        }),
      ]),
  },
  {
    name: 'STRLEN',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => integerReply(stringAt(keyspace, keyOf(args[1]!))?.length ?? 0),
  },
];
