/** The words of one script line after its command name. */
export interface CommandArguments {
  /** Words without `=`, in order. */
  readonly positional: readonly string[];
  /** `key=value` words. */
  readonly named: ReadonlyMap<string, string>;
  /** The first positional word, the server most commands act on (empty when absent). */
  readonly target: string;
}

/** Splits words into `key=value` pairs and the others, in order. */
export function parseArguments(words: readonly string[]): CommandArguments {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals > 0) named.set(word.slice(0, equals), word.slice(equals + 1));
    else positional.push(word);
  }
  return { positional, named, target: positional[0] ?? '' };
}

export function numberOption(named: ReadonlyMap<string, string>, key: string): number | undefined {
  const value = named.get(key);
  return value === undefined ? undefined : Number(value);
}

export function booleanOption(
  named: ReadonlyMap<string, string>,
  key: string,
): boolean | undefined {
  const value = named.get(key);
  return value === undefined ? undefined : value === 'true';
}

/** `1,2,3` as ids; absent or empty as none. */
export function idList(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(',');
}

type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** Drops keys whose value is undefined, as `exactOptionalPropertyTypes` requires. */
export function withoutUndefined<T extends object>(record: T): Defined<T> {
  return Object.fromEntries(
    Object.entries(record).filter(([, value]) => value !== undefined),
  ) as Defined<T>;
}
