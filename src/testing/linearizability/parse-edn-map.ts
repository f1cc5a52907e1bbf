import { RaftError } from '../../core/errors.js';

/** An EDN keyword such as `:invoke`, kept apart from strings so `:ok` and `"ok"` differ. */
export interface EdnKeyword {
  readonly keyword: string;
}

/** The scalar EDN values a Jepsen history line holds. */
export type EdnValue = string | number | boolean | null | EdnKeyword;

const delimiters = new Set(['{', '}', '[', ']', '(', ')', '"', ',', ';']);
const stringEscapes: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  n: '\n',
  t: '\t',
  r: '\r',
};

function isWhitespace(character: string): boolean {
  return character === ' ' || character === '\t' || character === ',' || character === '\r';
}

/**
 * Reads one EDN map of keyword keys and scalar values written on a single line, as Jepsen writes
 * history events: `{:process 0, :type :invoke, :f :get, :key "x", :value nil}`. Nested collections
 * are not needed for these histories and are rejected.
 */
export function parseEdnMap(line: string, lineNumber: number): Map<string, EdnValue> {
  return new EdnMapReader(line, lineNumber).read();
}

class EdnMapReader {
  readonly #text: string;
  readonly #lineNumber: number;
  #position = 0;

  constructor(text: string, lineNumber: number) {
    this.#text = text;
    this.#lineNumber = lineNumber;
  }

  read(): Map<string, EdnValue> {
    const map = new Map<string, EdnValue>();
    this.#skipWhitespace();
    this.#expect('{');
    for (;;) {
      this.#skipWhitespace();
      if (this.#peek() === '}') break;
      const key = this.#readValue();
      if (key === null || typeof key !== 'object') this.#fail('expected a keyword as map key');
      if (map.has(key.keyword)) this.#fail(`duplicate key :${key.keyword}`);
      this.#skipWhitespace();
      map.set(key.keyword, this.#readValue());
    }
    this.#position++;
    this.#skipWhitespace();
    if (this.#position < this.#text.length) this.#fail('unexpected text after the map');
    return map;
  }

  #readValue(): EdnValue {
    const character = this.#peek();
    if (character === '"') return this.#readString();
    if (character === undefined || delimiters.has(character) || isWhitespace(character)) {
      this.#fail(character === undefined ? 'unexpected end of line' : `unexpected "${character}"`);
    }
    const token = this.#readToken();
    if (token.startsWith(':') && token.length > 1) return { keyword: token.slice(1) };
    if (token === 'nil') return null;
    if (token === 'true' || token === 'false') return token === 'true';
    if (/^[-+]?\d+$/.test(token)) return Number(token);
    this.#fail(`unsupported value ${token}`);
  }

  #readString(): string {
    this.#position++;
    let value = '';
    for (;;) {
      const character = this.#peek();
      if (character === undefined) this.#fail('unterminated string');
      this.#position++;
      if (character === '"') return value;
      if (character !== '\\') {
        value += character;
        continue;
      }
      const escaped = this.#peek();
      const replacement = escaped === undefined ? undefined : stringEscapes[escaped];
      if (replacement === undefined) this.#fail('unsupported escape in string');
      value += replacement;
      this.#position++;
    }
  }

  #readToken(): string {
    const start = this.#position;
    for (;;) {
      const character = this.#peek();
      if (character === undefined || delimiters.has(character) || isWhitespace(character)) break;
      this.#position++;
    }
    return this.#text.slice(start, this.#position);
  }

  #skipWhitespace(): void {
    while (this.#position < this.#text.length && isWhitespace(this.#text[this.#position]!)) {
      this.#position++;
    }
  }

  #peek(): string | undefined {
    return this.#text[this.#position];
  }

  #expect(character: string): void {
    if (this.#peek() !== character) this.#fail(`expected "${character}"`);
    this.#position++;
  }

  #fail(reason: string): never {
    const column = this.#position + 1;
    throw new RaftError(
      'INVALID_MESSAGE',
      `line ${this.#lineNumber}, column ${column}: ${reason}`,
      {
        details: { line: this.#lineNumber, column },
      },
    );
  }
}
