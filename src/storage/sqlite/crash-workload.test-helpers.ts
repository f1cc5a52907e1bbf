import { encodeKeyValueCommand, type KeyValueCommand } from './sqlite-key-value-store.js';

/** Keys the workload writes; few enough that sets and deletes keep hitting the same rows. */
const workloadKeyCount = 37;

/** The command at log index `index`: a pure function, so a checker can replay any prefix. */
export function workloadCommand(index: number): KeyValueCommand {
  const key = `key-${index % workloadKeyCount}`;
  return index % 11 === 0 ? { op: 'delete', key } : { op: 'set', key, value: `value-${index}` };
}

/** The encoded command at `index`. */
export function workloadCommandBytes(index: number): Uint8Array {
  return encodeKeyValueCommand(workloadCommand(index));
}

/** The table contents after applying the workload's entries 1 to `appliedIndex`, in key order. */
export function expectedTable(appliedIndex: number): [string, string][] {
  const table = new Map<string, string>();
  for (let index = 1; index <= appliedIndex; index++) {
    const command = workloadCommand(index);
    if (command.op === 'set') table.set(command.key, command.value);
    else table.delete(command.key);
  }
  return [...table.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}
