import { parseArgs } from 'node:util';

/** A command line the CLI cannot run: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** One option of the command line; every option is known here, so nothing unknown slips by. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** What the value looks like in the usage, e.g. `<count>`. Strings only. */
  readonly placeholder?: string;
  readonly description: string;
}

/** The options of every command, by name. Commands list which of them they accept. */
export const optionSpecs = {
  dir: { type: 'string', placeholder: '<path>', description: 'cluster data directory (./data)' },
  server: { type: 'string', placeholder: '<host:port>', description: 'ask this server' },
  json: { type: 'boolean', description: 'print JSON' },
  nodes: { type: 'string', placeholder: '<count>', description: 'servers, 1 to 64 (3)' },
  'base-port': {
    type: 'string',
    placeholder: '<port>',
    description: 'first client port (default: free ports near 7001, kept per directory)',
  },
  'tick-ms': { type: 'string', placeholder: '<ms>', description: 'Raft tick (100)' },
  consistency: {
    type: 'string',
    placeholder: 'linearizable|lease|stale',
    description: 'default read consistency',
  },
  'log-format': { type: 'string', placeholder: 'text|json', description: 'server log lines' },
  'dashboard-port': {
    type: 'string',
    placeholder: '<port>',
    description: 'dashboard on 127.0.0.1 (the port below the first client port)',
  },
  seconds: { type: 'string', placeholder: '<seconds>', description: 'how long to run (10)' },
  clients: { type: 'string', placeholder: '<count>', description: 'concurrent writers (8)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', description: 'print the version' },
} as const satisfies Record<string, OptionSpec>;

/** The name of an option in {@link optionSpecs}. */
export type OptionName = keyof typeof optionSpecs;

/** One command: the words that name it, its arguments and the options it takes. */
export interface CommandSpec {
  /** e.g. `['cluster', 'start']`. */
  readonly words: readonly string[];
  /** Names of the positional arguments after the words, in order, e.g. `['<id>']`. */
  readonly arguments: readonly string[];
  /** Optional trailing arguments, e.g. `['on|off']` for `settings <name> [on|off]`. */
  readonly optionalArguments?: readonly string[];
  readonly options: readonly OptionName[];
  readonly summary: string;
}

/** The values of a parsed command line: strings and booleans by option name. */
export type OptionValues = Partial<Record<OptionName, string | boolean>>;

/** A command line matched to one command. */
export interface ParsedCommand {
  readonly spec: CommandSpec;
  /** The positional arguments after the command's words. */
  readonly arguments: readonly string[];
  readonly values: OptionValues;
}

/** The usage text of `commands`, one block per command. */
export function formatUsage(commands: readonly CommandSpec[]): string {
  const lines = ['usage: raftkit <command> [options]', ''];
  for (const command of commands) {
    const head = [
      ...command.words,
      ...command.arguments,
      ...(command.optionalArguments ?? []).map((name) => `[${name}]`),
    ].join(' ');
    const options = command.options
      .map((name) => {
        const spec: OptionSpec = optionSpecs[name];
        return spec.type === 'boolean' ? `[--${name}]` : `[--${name} ${spec.placeholder}]`;
      })
      .join(' ');
    lines.push(`  ${head}${options === '' ? '' : ' ' + options}`);
    lines.push(`      ${command.summary}`);
  }
  lines.push('', 'options:');
  for (const [name, spec] of Object.entries(optionSpecs) as [OptionName, OptionSpec][]) {
    const flag = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.placeholder}`;
    lines.push(`  ${flag.padEnd(40)} ${spec.description}`);
  }
  return lines.join('\n');
}

/**
 * Matches `argv` to one of `commands`, rejecting with {@link UsageError} an unknown option, an
 * option the command does not take, a missing or extra argument, or an unknown command.
 * Returns `null` for `--help`, `--version` or an empty command line (the caller prints those).
 */
export function parseCommandLine(
  argv: readonly string[],
  commands: readonly CommandSpec[],
): ParsedCommand | null {
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: optionSpecs,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help === true || values.version === true || positionals.length === 0) return null;
  const spec = matchCommand(positionals, commands);
  const rest = positionals.slice(spec.words.length);
  const optionalCount = spec.optionalArguments?.length ?? 0;
  if (rest.length < spec.arguments.length || rest.length > spec.arguments.length + optionalCount) {
    throw new UsageError(`'${spec.words.join(' ')}' takes ${describeArguments(spec)}`);
  }
  for (const name of Object.keys(values) as OptionName[]) {
    if (!spec.options.includes(name)) {
      throw new UsageError(`'${spec.words.join(' ')}' does not take --${name}`);
    }
  }
  return { spec, arguments: rest, values };
}

function matchCommand(positionals: readonly string[], commands: readonly CommandSpec[]) {
  let best: CommandSpec | null = null;
  for (const command of commands) {
    const matches = command.words.every((word, position) => positionals[position] === word);
    if (matches && (best === null || command.words.length > best.words.length)) best = command;
  }
  if (best === null) throw new UsageError(`unknown command '${positionals.join(' ')}'`);
  return best;
}

function describeArguments(spec: CommandSpec): string {
  const names = [...spec.arguments, ...(spec.optionalArguments ?? []).map((name) => `[${name}]`)];
  return names.length === 0 ? 'no arguments' : names.join(' ');
}

/** A whole number option within bounds, or its default; anything else is a {@link UsageError}. */
export function integerOption(
  values: OptionValues,
  name: OptionName,
  bounds: { readonly min: number; readonly max: number; readonly fallback: number },
): number {
  const raw = values[name];
  if (raw === undefined) return bounds.fallback;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${bounds.min} to ${bounds.max}, got '${String(raw)}'`,
    );
  }
  return value;
}

/** A string option that must be one of `choices`, or `undefined` when absent. */
export function choiceOption<Choice extends string>(
  values: OptionValues,
  name: OptionName,
  choices: readonly Choice[],
): Choice | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be ${choices.join(', ')}; got '${String(raw)}'`);
  }
  return raw as Choice;
}

/** A string option, or `fallback` when absent. */
export function stringOption(values: OptionValues, name: OptionName, fallback: string): string {
  const raw = values[name];
  return typeof raw === 'string' ? raw : fallback;
}
