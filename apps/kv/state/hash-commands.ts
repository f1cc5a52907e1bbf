import {
  checkPairs,
  CommandError,
  fitsInt64,
  integerArgument,
  keyBytes,
  keyOf,
  notIntegerMessage,
  ownedCopy,
  parseInt64,
} from './arguments.js';
import { firstKey, type DataCommandSpec } from './command-spec.js';
import type { Keyspace } from './keyspace.js';
import { parseScan } from './key-commands.js';
import { arrayReply, bulkReply, integerReply, okReply } from '../resp/resp-writer.js';

function fieldsAt(keyspace: Keyspace, args: readonly Uint8Array[]): Map<string, Buffer> | null {
  return keyspace.read(keyOf(args[1]!), 'hash')?.fields ?? null;
}

function setFields(keyspace: Keyspace, args: readonly Uint8Array[]): number {
  const fields = keyspace.update(keyOf(args[1]!), 'hash').fields;
  let added = 0;
  for (let position = 2; position + 1 < args.length; position += 2) {
    const field = keyOf(args[position]!);
    if (!fields.has(field)) added++;
    fields.set(field, ownedCopy(args[position + 1]!));
  }
  return added;
}

/** Hashes: a key holding field → value pairs. */
export const hashCommands: readonly DataCommandSpec[] = [
  {
    name: 'HSET',
    kind: 'write',
    arity: -4,
    keys: firstKey,
    check: checkPairs('hset', 0),
    run: (keyspace, args) => integerReply(setFields(keyspace, args)),
  },
  {
    name: 'HMSET',
    kind: 'write',
    arity: -4,
    keys: firstKey,
    check: checkPairs('hmset', 0),
    run: (keyspace, args) => {
      setFields(keyspace, args);
      return okReply;
    },
  },
  {
    name: 'HSETNX',
    kind: 'write',
    arity: 4,
    keys: firstKey,
    run: (keyspace, args) => {
      const field = keyOf(args[2]!);
      if (fieldsAt(keyspace, args)?.has(field) === true) return integerReply(0);
      keyspace.update(keyOf(args[1]!), 'hash').fields.set(field, ownedCopy(args[3]!));
      return integerReply(1);
    },
  },
  {
    name: 'HDEL',
    kind: 'write',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      const fields = keyspace.read(key, 'hash')?.fields;
      if (fields === undefined) return integerReply(0);
      const doomed = args
        .slice(2)
        .map(keyOf)
        .filter((field) => fields.has(field));
      if (doomed.length === 0) return integerReply(0);
      const kept = keyspace.update(key, 'hash').fields;
      for (const field of doomed) kept.delete(field);
      // An empty hash is no key at all, as in Redis.
      if (kept.size === 0) keyspace.delete(key);
      return integerReply(new Set(doomed).size);
    },
  },
  {
    name: 'HINCRBY',
    kind: 'write',
    arity: 4,
    keys: firstKey,
    check: (args) => (parseInt64(args[3]!) === null ? notIntegerMessage : null),
    run: (keyspace, args) => {
      const field = keyOf(args[2]!);
      const amount = integerArgument(args[3]!);
      const current = fieldsAt(keyspace, args)?.get(field);
      const value = current === undefined ? 0n : parseInt64(current);
      if (value === null) throw new CommandError('ERR hash value is not an integer');
      const next = value + amount;
      if (!fitsInt64(next)) throw new CommandError('ERR increment or decrement would overflow');
      keyspace
        .update(keyOf(args[1]!), 'hash')
        .fields.set(field, Buffer.from(next.toString(), 'latin1'));
      return integerReply(next);
    },
  },
  {
    name: 'HGET',
    kind: 'read',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) => bulkReply(fieldsAt(keyspace, args)?.get(keyOf(args[2]!)) ?? null),
  },
  {
    name: 'HMGET',
    kind: 'read',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const fields = fieldsAt(keyspace, args);
      return arrayReply(args.slice(2).map((field) => bulkReply(fields?.get(keyOf(field)) ?? null)));
    },
  },
  {
    name: 'HGETALL',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) =>
      arrayReply(
        [...(fieldsAt(keyspace, args) ?? [])].flatMap(([field, value]) => [
          bulkReply(keyBytes(field)),
          bulkReply(value),
        ]),
      ),
  },
  {
    // The whole hash in one call, with cursor 0 — what Redis does for a small hash: the work is
    // that of HGETALL. COUNT is a hint, so ignoring it is within the contract.
    name: 'HSCAN',
    kind: 'read',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const { pattern } = parseScan(args, 2, false);
      const replies: Buffer[] = [];
      for (const [field, value] of fieldsAt(keyspace, args) ?? []) {
        if (pattern === null || pattern.matches(field)) {
          replies.push(bulkReply(keyBytes(field)), bulkReply(value));
        }
      }
      return arrayReply([bulkReply('0'), arrayReply(replies)]);
    },
  },
  {
    name: 'HEXISTS',
    kind: 'read',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) =>
      integerReply(fieldsAt(keyspace, args)?.has(keyOf(args[2]!)) === true ? 1 : 0),
  },
  {
    name: 'HLEN',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => integerReply(fieldsAt(keyspace, args)?.size ?? 0),
  },
  {
    name: 'HSTRLEN',
    kind: 'read',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) =>
      integerReply(fieldsAt(keyspace, args)?.get(keyOf(args[2]!))?.length ?? 0),
  },
  {
    name: 'HKEYS',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) =>
      arrayReply(
        [...(fieldsAt(keyspace, args)?.keys() ?? [])].map((field) => bulkReply(keyBytes(field))),
      ),
  },
  {
    name: 'HVALS',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) =>
      arrayReply([...(fieldsAt(keyspace, args)?.values() ?? [])].map((value) => bulkReply(value))),
  },
];
