import {
  CommandError,
  integerArgument,
  keyBytes,
  keyOf,
  notIntegerMessage,
  optionOf,
  parseInt64,
  syntaxErrorMessage,
} from './arguments.js';
import { allKeys, firstKey, noKeys, twoKeys, type DataCommandSpec } from './command-spec.js';
import { GlobPattern } from './glob.js';
import type { Keyspace } from './keyspace.js';
import {
  arrayReply,
  bulkReply,
  integerReply,
  okReply,
  simpleStringReply,
} from '../resp/resp-writer.js';

/** SCAN's options when the client gives none: COUNT 10 (Redis's default). */
const scanDefaults: { readonly count: number } = Object.freeze({ count: 10 });
/** Largest COUNT honoured; bigger hints are clamped so one call stays bounded. */
export const scanCountMax = 1000;
/** Buckets one SCAN call may visit per key asked for, so empty stretches cost bounded work. */
const scanBucketsPerKey = 10;

type ExpiryCondition = 'NX' | 'XX' | 'GT' | 'LT';

/** Parses EXPIRE's trailing NX|XX|GT|LT; throws on anything else or a contradiction. */
function expiryCondition(args: readonly Uint8Array[]): ExpiryCondition | null {
  let condition: ExpiryCondition | null = null;
  for (const argument of args.slice(3)) {
    const option = optionOf(argument);
    if (option !== 'NX' && option !== 'XX' && option !== 'GT' && option !== 'LT') {
      throw new CommandError(`ERR Unsupported option ${keyOf(argument)}`);
    }
    if (condition !== null && condition !== option) {
      throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
    }
    condition = option;
  }
  return condition;
}

/**
 * EXPIRE and friends. `toDeadline` turns the argument into an absolute replicated-time deadline.
 * Absolute forms (EXPIREAT) are judged by replicated time too, so every server agrees.
 */
function expire(toDeadline: (keyspace: Keyspace, amount: bigint) => bigint) {
  return (keyspace: Keyspace, args: readonly Uint8Array[]): Buffer => {
    const amount = integerArgument(args[2]!);
    const condition = expiryCondition(args);
    const deadline = toDeadline(keyspace, amount);
    if (deadline > BigInt(Number.MAX_SAFE_INTEGER) || deadline < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CommandError(
        `ERR invalid expire time in '${keyOf(args[0]!).toLowerCase()}' command`,
      );
    }
    const key = keyOf(args[1]!);
    const entry = keyspace.get(key);
    if (entry === undefined) return integerReply(0);
    const next = Number(deadline);
    const current = entry.expiresAtMs;
    // A key without expiry counts as living forever for GT and LT.
    const refused =
      (condition === 'NX' && current !== null) ||
      (condition === 'XX' && current === null) ||
      (condition === 'GT' && (current === null || next <= current)) ||
      (condition === 'LT' && current !== null && next >= current);
    if (refused) return integerReply(0);
    keyspace.setExpiry(key, next);
    return integerReply(1);
  };
}

function expireCommand(name: string, toDeadline: (keyspace: Keyspace, amount: bigint) => bigint) {
  return {
    name,
    kind: 'write',
    arity: -3,
    keys: firstKey,
    check: (args: readonly Uint8Array[]) =>
      parseInt64(args[2]!) === null ? notIntegerMessage : null,
    run: expire(toDeadline),
  } as const satisfies DataCommandSpec;
}

function remainingTime(keyspace: Keyspace, args: readonly Uint8Array[], unitMs: number): Buffer {
  const entry = keyspace.get(keyOf(args[1]!));
  if (entry === undefined) return integerReply(-2);
  if (entry.expiresAtMs === null) return integerReply(-1);
  const remainingMs = entry.expiresAtMs - keyspace.timeMs;
  return integerReply(unitMs === 1 ? remainingMs : Math.round(remainingMs / unitMs));
}

/** SCAN's options, parsed. */
export interface ScanOptions {
  readonly cursor: number;
  readonly pattern: GlobPattern | null;
  readonly count: number;
  /** Only keys of this type; an unknown name matches nothing, as in Redis. */
  readonly type: string | null;
}

/**
 * Parses `cursor [MATCH pattern] [COUNT n] [TYPE t]` starting at `cursorAt` (SCAN's cursor is
 * argument 1, HSCAN's and SSCAN's argument 2, after the key). TYPE is SCAN's alone.
 */
export function parseScan(
  args: readonly Uint8Array[],
  cursorAt = 1,
  typeAllowed = true,
): ScanOptions {
  const cursorText = keyOf(args[cursorAt]!);
  const cursor = /^\d{1,10}$/.test(cursorText) ? Number(cursorText) : NaN;
  if (!(cursor <= 0xffffffff)) throw new CommandError('ERR invalid cursor');
  let pattern: GlobPattern | null = null;
  let count = scanDefaults.count;
  let type: string | null = null;
  for (let position = cursorAt + 1; position < args.length; position += 2) {
    const option = optionOf(args[position]!);
    const value = args[position + 1];
    if (value === undefined) throw new CommandError(syntaxErrorMessage);
    if (option === 'MATCH') {
      pattern = new GlobPattern(keyOf(value));
    } else if (option === 'COUNT') {
      const parsed = integerArgument(value);
      if (parsed < 1n) throw new CommandError(syntaxErrorMessage);
      count = Number(parsed < BigInt(scanCountMax) ? parsed : BigInt(scanCountMax));
    } else if (option === 'TYPE' && typeAllowed) {
      type = keyOf(value).toLowerCase();
    } else {
      throw new CommandError(syntaxErrorMessage);
    }
  }
  return { cursor, pattern: pattern?.matchesEverything === true ? null : pattern, count, type };
}

function scan(keyspace: Keyspace, args: readonly Uint8Array[]): Buffer {
  const options = parseScan(args);
  const step = keyspace.scan(options.cursor, options.count, options.count * scanBucketsPerKey);
  const keys = step.keys.filter(
    (key) =>
      (options.pattern === null || options.pattern.matches(key)) &&
      (options.type === null || keyspace.get(key)?.value.type === options.type),
  );
  return arrayReply([
    bulkReply(String(step.cursor)),
    arrayReply(keys.map((key) => bulkReply(keyBytes(key)))),
  ]);
}

function rename(onlyIfAbsent: boolean) {
  return (keyspace: Keyspace, args: readonly Uint8Array[]): Buffer => {
    const source = keyOf(args[1]!);
    const target = keyOf(args[2]!);
    const entry = keyspace.get(source);
    if (entry === undefined) throw new CommandError('ERR no such key');
    if (onlyIfAbsent && keyspace.get(target) !== undefined) return integerReply(0);
    if (source !== target) {
      const { value, expiresAtMs } = entry;
      keyspace.delete(source);
      keyspace.put(target, value, expiresAtMs);
    }
    return onlyIfAbsent ? integerReply(1) : okReply;
  };
}

function deleteKeys(keyspace: Keyspace, args: readonly Uint8Array[]): Buffer {
  return integerReply(args.slice(1).filter((key) => keyspace.delete(keyOf(key))).length);
}

function flush(keyspace: Keyspace, args: readonly Uint8Array[]): Buffer {
  const mode = args[1] === undefined ? 'SYNC' : optionOf(args[1]);
  if (args.length > 2 || (mode !== 'SYNC' && mode !== 'ASYNC')) {
    throw new CommandError(syntaxErrorMessage);
  }
  keyspace.clear();
  return okReply;
}

/** Whole keys: existence, type, deletion, expiry, renaming, listing and flushing. */
export const keyCommands: readonly DataCommandSpec[] = [
  { name: 'DEL', kind: 'write', arity: -2, keys: allKeys, run: deleteKeys },
  {
    // Freeing memory in the background buys nothing here: UNLINK is DEL.
    name: 'UNLINK',
    kind: 'write',
    arity: -2,
    keys: allKeys,
    run: deleteKeys,
  },
  expireCommand('EXPIRE', (keyspace, seconds) => BigInt(keyspace.timeMs) + seconds * 1000n),
  expireCommand('PEXPIRE', (keyspace, milliseconds) => BigInt(keyspace.timeMs) + milliseconds),
  expireCommand('EXPIREAT', (_keyspace, seconds) => seconds * 1000n),
  expireCommand('PEXPIREAT', (_keyspace, milliseconds) => milliseconds),
  {
    name: 'PERSIST',
    kind: 'write',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => {
      const key = keyOf(args[1]!);
      if (keyspace.get(key)?.expiresAtMs == null) return integerReply(0);
      keyspace.setExpiry(key, null);
      return integerReply(1);
    },
  },
  { name: 'RENAME', kind: 'write', arity: 3, keys: twoKeys, run: rename(false) },
  { name: 'RENAMENX', kind: 'write', arity: 3, keys: twoKeys, run: rename(true) },
  { name: 'FLUSHDB', kind: 'write', arity: -1, keys: noKeys, run: flush },
  { name: 'FLUSHALL', kind: 'write', arity: -1, keys: noKeys, run: flush },
  {
    name: 'EXISTS',
    kind: 'read',
    arity: -2,
    keys: allKeys,
    run: (keyspace, args) =>
      integerReply(args.slice(1).filter((key) => keyspace.get(keyOf(key)) !== undefined).length),
  },
  {
    name: 'TYPE',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => simpleStringReply(keyspace.get(keyOf(args[1]!))?.value.type ?? 'none'),
  },
  {
    name: 'TTL',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => remainingTime(keyspace, args, 1000),
  },
  {
    name: 'PTTL',
    kind: 'read',
    arity: 2,
    keys: firstKey,
    run: (keyspace, args) => remainingTime(keyspace, args, 1),
  },
  {
    name: 'DBSIZE',
    kind: 'read',
    arity: 1,
    keys: noKeys,
    run: (keyspace) => integerReply(keyspace.size),
  },
  {
    // O(keys), as in Redis; SCAN is the bounded way to walk a large keyspace.
    name: 'KEYS',
    kind: 'read',
    arity: 2,
    keys: noKeys,
    run: (keyspace, args) => {
      const pattern = new GlobPattern(keyOf(args[1]!));
      const replies: Buffer[] = [];
      for (const key of keyspace.keys()) {
        if (pattern.matchesEverything || pattern.matches(key))
          replies.push(bulkReply(keyBytes(key)));
      }
      return arrayReply(replies);
    },
  },
  { name: 'SCAN', kind: 'read', arity: -2, keys: noKeys, run: scan },
];
