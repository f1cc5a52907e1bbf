// The compatibility table of docs/kv.md against the server's own command registry: every command
// the server accepts is in a supported row, and no command a "not supported" row names is
// accepted. A command added or removed without its row fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acceptedCommandNames } from './server/local-commands.js';

interface Row {
  readonly status: string;
  /** The leading command word of each `code` fragment of the first column. */
  readonly names: readonly string[];
  /** Fragments that are a single word: a command named on its own. */
  readonly singleWords: readonly string[];
}

function compatibilityRows(): Row[] {
  const text = readFileSync(new URL('../../docs/kv.md', import.meta.url), 'utf8');
  const section = text.slice(
    text.indexOf('## Commands and compatibility with Redis'),
    text.indexOf('The RAFT family:'),
  );
  return section
    .split('\n')
    .filter(
      (line) => line.startsWith('| ') && !line.startsWith('| command') && !line.startsWith('| -'),
    )
    .map((line) => {
      const cells = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
      const fragments = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
      return {
        status: cells[3]!,
        names: fragments.flatMap((fragment) => /^[A-Z][A-Z-]*/.exec(fragment)?.[0] ?? []),
        singleWords: fragments.filter((fragment) => /^[A-Z][A-Z-]*$/.test(fragment)),
      };
    });
}

describe('docs/kv.md compatibility table', () => {
  const rows = compatibilityRows();
  const accepted = new Set(acceptedCommandNames());

  it('has rows of every status', () => {
    expect(new Set(rows.map((row) => row.status))).toEqual(
      new Set(['supported', 'differs', 'raftkit only', 'not supported']),
    );
  });

  it('lists every command the server accepts in a supported row', () => {
    const listed = new Set(
      rows.filter((row) => row.status !== 'not supported').flatMap((row) => row.names),
    );
    expect([...accepted].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !accepted.has(name))).toEqual([]);
  });

  it('names no command the server accepts as not supported', () => {
    const refused = rows
      .filter((row) => row.status === 'not supported')
      .flatMap((row) => row.singleWords);
    expect(refused.length).toBeGreaterThan(40);
    expect(refused.filter((name) => accepted.has(name))).toEqual([]);
  });
});
