/**
 * Argument parsing and the error replies shared by the command families. A command that cannot
 * run throws {@link CommandError} before it changes anything; the dispatcher turns it into the
 * error reply, so each family's code reads as the happy path.
 */

/** An error reply raised by a command; `message` is the reply text, first word the kind. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

export const notIntegerMessage = 'ERR value is not an integer or out of range';
export const syntaxErrorMessage = 'ERR syntax error';
export const wrongTypeMessage = 'WRONGTYPE Operation against a key holding the wrong kind of value';

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

/** Like {@link parseInt64}, but throws the Redis error instead of returning null. */
export function integerArgument(argument: Uint8Array): bigint {
  const value = parseInt64(argument);
  if (value === null) throw new CommandError(notIntegerMessage);
  return value;
}

/** Whether `value` fits a signed 64-bit integer. */
export function fitsInt64(value: bigint): boolean {
  return value >= int64Min && value <= int64Max;
}

/**
 * Up to this many bytes, text is built a character at a time: every command's name is read this
 * way on every server, and a Buffer view plus a native `toString` call cost several times the
 * loop. V8 keeps strings this short flat, so the result hashes as fast as the native one.
 */
const shortTextBytesMax = 12;

/** The argument as latin1 text: one character per byte, so any key round-trips. */
export function keyOf(bytes: Uint8Array): string {
  const length = bytes.byteLength;
  if (length <= shortTextBytesMax) {
    let text = '';
    for (let position = 0; position < length; position++) {
      text += String.fromCharCode(bytes[position]!);
    }
    return text;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
}

/**
 * Whether `bytes` from `start` hold `text` as {@link keyOf} reads it, one byte per character; the
 * caller has matched the length.
 */
export function holdsText(bytes: Uint8Array, start: number, text: string): boolean {
  for (let position = 0; position < text.length; position++) {
    if (bytes[start + position] !== text.charCodeAt(position)) return false;
  }
  return true;
}

/** The bytes of a key held as latin1 text. */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

/** An option word, upper-cased. */
export function optionOf(bytes: Uint8Array): string {
  return keyOf(bytes).toUpperCase();
}

/** A copy of an argument: arguments are views into a whole log entry that should not stay alive. */
export function ownedCopy(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

/** Options of SET, with the expiry as a duration relative to the time the entry applies. */
export interface SetOptions {
  readonly condition: 'none' | 'nx' | 'xx';
  /** Milliseconds to live, `keep` for KEEPTTL, or null for no expiry. */
  readonly ttlMs: number | 'keep' | null;
  /** GET: answer the previous value instead of OK. */
  readonly get: boolean;
}

/** Parses `SET key value [NX|XX] [GET] [EX s|PX ms|KEEPTTL]`; a string is an error message. */
export function parseSetOptions(args: readonly Uint8Array[]): SetOptions | string {
  let condition: SetOptions['condition'] = 'none';
  let ttlMs: SetOptions['ttlMs'] = null;
  let get = false;
  for (let position = 3; position < args.length; position++) {
    const option = optionOf(args[position]!);
    if ((option === 'NX' || option === 'XX') && condition === 'none') {
      condition = option === 'NX' ? 'nx' : 'xx';
    } else if (option === 'GET' && !get) {
      get = true;
    } else if (option === 'KEEPTTL' && ttlMs === null) {
      ttlMs = 'keep';
    } else if ((option === 'EX' || option === 'PX') && ttlMs === null) {
      const amount = args[position + 1];
      if (amount === undefined) return syntaxErrorMessage;
      position++;
      const duration = parseDurationMs(amount, option === 'EX' ? 1000 : 1, 'set');
      if (typeof duration === 'string') return duration;
      ttlMs = duration;
    } else {
      return syntaxErrorMessage;
    }
  }
  return { condition, ttlMs, get };
}

/**
 * A positive duration argument in `unitMs` units, as milliseconds; a string is the Redis error
 * for `command`.
 */
export function parseDurationMs(
  argument: Uint8Array,
  unitMs: number,
  command: string,
): number | string {
  const parsed = parseInt64(argument);
  if (parsed === null) return notIntegerMessage;
  const milliseconds = parsed * BigInt(unitMs);
  if (parsed <= 0n || milliseconds > BigInt(Number.MAX_SAFE_INTEGER)) {
    return `ERR invalid expire time in '${command}' command`;
  }
  return Number(milliseconds);
}

/**
 * Checks that a command's argument count has the given parity (pairs after the key: HSET, MSET),
 * answering Redis's arity error otherwise.
 */
export function checkPairs(command: string, countParity: 0 | 1) {
  return (args: readonly Uint8Array[]): string | null =>
    args.length % 2 === countParity
      ? null
      : `ERR wrong number of arguments for '${command}' command`;
}
