/**
 * Redis's glob patterns (KEYS, SCAN MATCH): `*` any run, `?` any one character, `[abc]`, `[^a]`,
 * `[a-z]` classes, and `\` to take the next character literally. Patterns are compiled once and
 * matched with the two-pointer method, so a pattern full of stars costs O(pattern × key) at worst
 * instead of the exponential backtracking a naive matcher falls into.
 */

type Token =
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'char'; readonly code: number }
  | {
      readonly kind: 'class';
      readonly negate: boolean;
      readonly ranges: readonly (readonly [number, number])[];
    };

/** A compiled pattern over latin1 text (one character per byte). */
export class GlobPattern {
  readonly #tokens: readonly Token[];
  /** `*` alone: every key matches, so callers can skip the test. */
  readonly matchesEverything: boolean;

  constructor(pattern: string) {
    this.#tokens = compile(pattern);
    this.matchesEverything = this.#tokens.every((token) => token.kind === 'star');
  }

  matches(text: string): boolean {
    const tokens = this.#tokens;
    let position = 0;
    let token = 0;
    let starToken = -1;
    let starPosition = 0;
    while (position < text.length) {
      const current = tokens[token];
      if (current?.kind === 'star') {
        starToken = token++;
        starPosition = position;
      } else if (current !== undefined && matchesOne(current, text.charCodeAt(position))) {
        token++;
        position++;
      } else if (starToken >= 0) {
        // Let the last star swallow one more character and retry from there.
        token = starToken + 1;
        position = ++starPosition;
      } else {
        return false;
      }
    }
    while (tokens[token]?.kind === 'star') token++;
    return token === tokens.length;
  }
}

function matchesOne(token: Token, code: number): boolean {
  switch (token.kind) {
    case 'one':
      return true;
    case 'char':
      return token.code === code;
    case 'class': {
      const inside = token.ranges.some(([low, high]) => code >= low && code <= high);
      return inside !== token.negate;
    }
    case 'star':
      return false;
  }
}

function compile(pattern: string): Token[] {
  const tokens: Token[] = [];
  for (let position = 0; position < pattern.length; position++) {
    const character = pattern[position]!;
    if (character === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (character === '?') {
      tokens.push({ kind: 'one' });
    } else if (character === '\\' && position + 1 < pattern.length) {
      tokens.push({ kind: 'char', code: pattern.charCodeAt(++position) });
    } else if (character === '[') {
      position = compileClass(pattern, position + 1, tokens);
    } else {
      tokens.push({ kind: 'char', code: pattern.charCodeAt(position) });
    }
  }
  return tokens;
}

/** Compiles `[…]` starting after the bracket; returns the position of its closing bracket. */
function compileClass(pattern: string, start: number, tokens: Token[]): number {
  let position = start;
  const negate = pattern[position] === '^';
  if (negate) position++;
  const ranges: [number, number][] = [];
  // As in Redis, an unterminated class runs to the end of the pattern.
  while (position < pattern.length && pattern[position] !== ']') {
    if (pattern[position] === '\\' && position + 1 < pattern.length) position++;
    const low = pattern.charCodeAt(position);
    if (pattern[position + 1] === '-' && position + 2 < pattern.length) {
      const high = pattern.charCodeAt(position + 2);
      ranges.push(low <= high ? [low, high] : [high, low]);
      position += 3;
    } else {
      ranges.push([low, low]);
      position++;
    }
  }
  tokens.push({ kind: 'class', negate, ranges });
  return position;
}
