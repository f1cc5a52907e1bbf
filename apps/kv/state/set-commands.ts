import { keyBytes, keyOf } from './arguments.js';
import { firstKey, type DataCommandSpec } from './command-spec.js';
import { parseScan } from './key-commands.js';
import type { Keyspace } from './keyspace.js';
import { arrayReply, bulkReply, integerReply } from '../resp/resp-writer.js';

function membersAt(keyspace: Keyspace, args: readonly Uint8Array[]): Set<string> | null {
  return keyspace.read(keyOf(args[1]!), 'set')?.members ?? null;
}

/** Sets: a key holding distinct members. */
export const setCommands: readonly DataCommandSpec[] = [
  {
    name: 'SADD',
    kind: 'write',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const members = keyspace.update(keyOf(args[1]!), 'set').members;
      const before = members.size;
      for (const member of args.slice(2)) members.add(keyOf(member));
      return integerReply(members.size - before);
    },
  },
  {
    name: 'SREM',
    kind: 'write',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      const present = membersAt(keyspace, args);
      const doomed = new Set(
        args
          .slice(2)
          .map(keyOf)
          .filter((member) => present?.has(member)),
      );
      if (doomed.size === 0) return integerReply(0);
      const members = keyspace.update(key, 'set').members;
      for (const member of doomed) members.delete(member);
      // An empty set is no key at all, as in Redis.
      if (members.size === 0) keyspace.delete(key);
      return integerReply(doomed.size);
    },
  },
  {
    name: 'SMEMBERS',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) =>
      arrayReply(
        [...(membersAt(keyspace, args) ?? [])].map((member) => bulkReply(keyBytes(member))),
      ),
  },
  {
    name: 'SISMEMBER',
    kind: 'read',
    arity: 3,
    keys: firstKey,
    run: (keyspace, args) =>
      integerReply(membersAt(keyspace, args)?.has(keyOf(args[2]!)) === true ? 1 : 0),
  },
  {
    name: 'SMISMEMBER',
    kind: 'read',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const members = membersAt(keyspace, args);
      return arrayReply(
        args.slice(2).map((member) => integerReply(members?.has(keyOf(member)) === true ? 1 : 0)),
      );
    },
  },
  {
    // The whole set in one call, with cursor 0, as Redis answers for a small set (see HSCAN).
    name: 'SSCAN',
    kind: 'read',
    arity: -3,
    keys: firstKey,
    run: (keyspace, args) => {
      const { pattern } = parseScan(args, 2, false);
      const members = [...(membersAt(keyspace, args) ?? [])].filter(
        (member) => pattern === null || pattern.matches(member),
      );
      return arrayReply([
        bulkReply('0'),
        arrayReply(members.map((member) => bulkReply(keyBytes(member)))),
      ]);
    },
  },
  {
    name: 'SCARD',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => integerReply(membersAt(keyspace, args)?.size ?? 0),
  },
];
