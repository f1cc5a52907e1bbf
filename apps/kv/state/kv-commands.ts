/**
 * The registry of data commands: every command family's specs in one table, looked up by the
 * connection (to classify and check a request before anything is proposed) and by the state
 * machine (to run it).
 */
import type { DataCommandKind, DataCommandSpec } from './command-spec.js';
import { hashCommands } from './hash-commands.js';
import { keyCommands } from './key-commands.js';
import { setCommands } from './set-commands.js';
import { stringCommands } from './string-commands.js';

export type { DataCommandKind, DataCommandSpec } from './command-spec.js';

const specs: ReadonlyMap<string, DataCommandSpec> = new Map(
  [...stringCommands, ...keyCommands, ...hashCommands, ...setCommands].map((spec) => [
    spec.name,
    spec,
  ]),
);

/** The names of every data command, for COMMAND and INFO. */
export const dataCommandNames: readonly string[] = [...specs.keys()];

/** The spec of a data command by upper-case name, or undefined. */
export function dataCommandSpec(name: string): DataCommandSpec | undefined {
  return specs.get(name);
}

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
