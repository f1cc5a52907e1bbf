import { readFileSync, writeFileSync } from 'node:fs';

/** One directive of a script: the command line and the output it must produce. */
export interface ScriptCase {
  readonly line: number;
  readonly command: string;
  readonly expected: string;
}

/**
 * Reads a script in the style of etcd's datadriven tests: a command line, a `----` line, the exact
 * expected output, and a blank line. `#` lines and blank lines between cases are comments.
 */
export function parseScript(text: string): ScriptCase[] {
  const lines = text.split('\n');
  const cases: ScriptCase[] = [];
  let position = 0;
  while (position < lines.length) {
    const line = lines[position]!;
    if (line.trim() === '' || line.startsWith('#')) {
      position++;
      continue;
    }
    const commandLine = position + 1;
    if (lines[position + 1] !== '----') {
      throw new Error(`line ${commandLine + 1}: expected ---- after "${line}"`);
    }
    position += 2;
    const output: string[] = [];
    while (position < lines.length && lines[position] !== '') output.push(lines[position++]!);
    cases.push({ line: commandLine, command: line, expected: output.join('\n') });
  }
  return cases;
}

/** Renders cases back to text, with the actual outputs, for regenerating a script. */
export function renderScript(
  text: string,
  cases: readonly ScriptCase[],
  actual: readonly string[],
): string {
  const lines = text.split('\n');
  const result: string[] = [];
  let position = 0;
  cases.forEach((scriptCase, caseIndex) => {
    while (position < scriptCase.line - 1) result.push(lines[position++]!);
    const output = actual[caseIndex] ?? '';
    result.push(lines[position]!, '----', ...(output === '' ? [] : output.split('\n')));
    position += 2;
    while (position < lines.length && lines[position] !== '') position++;
  });
  while (position < lines.length) result.push(lines[position++]!);
  return result.join('\n');
}

/** Runs a script file through `run`; with RAFTKIT_UPDATE_SCRIPTS=1 rewrites its expected outputs. */
export function runScriptFile(
  path: string,
  run: (command: string) => string,
): { cases: ScriptCase[]; actual: string[] } {
  const text = readFileSync(path, 'utf8');
  const cases = parseScript(text);
  const actual = cases.map((scriptCase) => {
    try {
      return run(scriptCase.command);
    } catch (error) {
      return `error: ${error instanceof Error ? error.message : String(error)}`;
    }
  });
  if (process.env.RAFTKIT_UPDATE_SCRIPTS === '1') {
    writeFileSync(path, renderScript(text, cases, actual));
  }
  return { cases, actual };
}
