/**
 * The data commands the store understands: which are writes (through the log) and which are reads,
 * their arity, and the argument checks that run before anything is proposed, so a request that
 * cannot succeed never reaches the log.
 */

/** How a command is served. */
export type DataCommandKind = 'write' | 'read';

interface DataCommandSpec {
  readonly kind: DataCommandKind;
  /** Redis convention: N means exactly N arguments (name included), -N means at least N. */
  readonly arity: number;
  /** Returns an error message for arguments no state could accept, or null. */
  readonly check?: (args: readonly Uint8Array[]) => string | null;
}

const integerPattern = /^-?(0|[1-9]\d{0,18})$/;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** Parses a signed 64-bit integer argument the way Redis does (no spaces, no plus, no leading zeros). */
export function parseInt64(argument: Uint8Array): bigint | null {
  const text = Buffer.from(argument).toString('latin1');
  if (!integerPattern.test(text)) return null;
  const value = BigInt(text);
  return value < int64Min || value > int64Max ? null : value;
}

/** Whether `value` fits a signed 64-bit integer. */
export function fitsInt64(value: bigint): boolean {
  return value >= int64Min && value <= int64Max;
}

export const notIntegerMessage = 'ERR value is not an integer or out of range';

/** Options of SET, with the expiry as a duration relative to the time the entry applies. */
export interface SetOptions {
  readonly condition: 'none' | 'nx' | 'xx';
  /** Milliseconds to live, or null for no expiry. */
  readonly ttlMs: number | null;
}

/** Parses `SET key value [NX|XX] [EX s|PX ms]`; a string is an error message. */
export function parseSetOptions(args: readonly Uint8Array[]): SetOptions | string {
  let condition: SetOptions['condition'] = 'none';
  let ttlMs: number | null = null;
  for (let position = 3; position < args.length; position++) {
    const option = Buffer.from(args[position]!).toString('latin1').toUpperCase();
    if ((option === 'NX' || option === 'XX') && condition === 'none') {
      condition = option === 'NX' ? 'nx' : 'xx';
    } else if ((option === 'EX' || option === 'PX') && ttlMs === null) {
      const amount = args[position + 1];
      if (amount === undefined) return 'ERR syntax error';
      position++;
      const parsed = parseInt64(amount);
      if (parsed === null) return notIntegerMessage;
      const milliseconds = option === 'EX' ? parsed * 1000n : parsed;
      if (parsed <= 0n || milliseconds > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "ERR invalid expire time in 'set' command";
      }
      ttlMs = Number(milliseconds);
    } else {
      return 'ERR syntax error';
    }
  }
  return { condition, ttlMs };
}

function checkInteger(position: number) {
  return (args: readonly Uint8Array[]): string | null =>
    parseInt64(args[position]!) === null ? notIntegerMessage : null;
}

const specs: ReadonlyMap<string, DataCommandSpec> = new Map<string, DataCommandSpec>([
  [
    'SET',
    {
      kind: 'write',
      arity: -3,
      check: (args) => {
        const options = parseSetOptions(args);
        return typeof options === 'string' ? options : null;
      },
    },
  ],
  ['DEL', { kind: 'write', arity: -2 }],
  ['INCR', { kind: 'write', arity: 2 }],
  ['DECR', { kind: 'write', arity: 2 }],
  ['INCRBY', { kind: 'write', arity: 3, check: checkInteger(2) }],
  ['DECRBY', { kind: 'write', arity: 3, check: checkInteger(2) }],
  ['APPEND', { kind: 'write', arity: 3 }],
  [
    'MSET',
    {
      kind: 'write',
      arity: -3,
      check: (args) =>
        args.length % 2 === 1 ? null : "ERR wrong number of arguments for 'mset' command",
    },
  ],
  ['GET', { kind: 'read', arity: 2 }],
  ['MGET', { kind: 'read', arity: -2 }],
  ['EXISTS', { kind: 'read', arity: -2 }],
  ['DBSIZE', { kind: 'read', arity: 1 }],
  ['TTL', { kind: 'read', arity: 2 }],
  ['PTTL', { kind: 'read', arity: 2 }],
]);

/** The names of every data command, for COMMAND and INFO. */
export const dataCommandNames: readonly string[] = [...specs.keys()];

/** Whether `name` (upper case) is a data command, and of which kind. */
export function dataCommandKind(name: string): DataCommandKind | null {
  return specs.get(name)?.kind ?? null;
}

/** Redis's arity check: the error message, or null when the count fits. */
export function arityError(name: string, arity: number, count: number): string | null {
  const fits = arity >= 0 ? count === arity : count >= -arity;
  return fits ? null : `ERR wrong number of arguments for '${name.toLowerCase()}' command`;
}

/** Checks a data command's arguments before it is proposed or read; null when acceptable. */
export function checkDataCommand(name: string, args: readonly Uint8Array[]): string | null {
  const spec = specs.get(name);
  if (spec === undefined) return `ERR unknown command '${name.toLowerCase()}'`;
  return arityError(name, spec.arity, args.length) ?? spec.check?.(args) ?? null;
}

/** The arity of a data command (for COMMAND replies). */
export function dataCommandArity(name: string): number {
  return specs.get(name)?.arity ?? 0;
}
