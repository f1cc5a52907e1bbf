import { bootId, monotonicMs } from './boot-id.js';

/**
 * The record of a clean stop that every storage adapter keeps in its own medium (docs/storage.md,
 * "The clean-stop record"): the boot of the machine and the time on its monotonic clock. One
 * format and one reading for all adapters, so each believes exactly what the others believe.
 */

/** What a clean-stop record is written and read against: this boot and its monotonic clock. */
export interface StopClock {
  /** Empty when the machine cannot name its boot: no record is then written or believed. */
  readonly bootId: string;
  /** Milliseconds on a clock that all processes of this boot share and nothing sets back. */
  monotonicMs(): number;
}

/** The machine's own boot id and monotonic clock. */
export const machineStopClock: StopClock = { bootId, monotonicMs };

/** A boot id, a number and a newline; anything longer is not a clean-stop record. */
export const cleanStopBytesMax = 128;

/**
 * The record of a clean stop at this moment, or `null` when the machine cannot name its boot: a
 * record nobody could check against a boot would be believed after a reboot, so none is made.
 */
export function cleanStopRecord(clock: StopClock): string | null {
  if (clock.bootId === '') return null;
  return `${clock.bootId} ${Math.floor(clock.monotonicMs())}\n`;
}

/**
 * Milliseconds since the stop `record` describes, or `undefined` when it is not to be believed:
 * not a record (torn, garbled, oversized), written on another boot (the clock it was read on
 * started again from zero, and a power loss may have lost writes after it), or from the future
 * (a clock that went backwards, so any duration would be a guess).
 */
export function elapsedSinceCleanStop(record: string, clock: StopClock): number | undefined {
  if (record.length > cleanStopBytesMax) return undefined;
  const match = /^([\w-]+) (\d+)\n$/.exec(record);
  if (match === null || clock.bootId === '' || match[1] !== clock.bootId) return undefined;
  const elapsed = clock.monotonicMs() - Number(match[2]);
  return elapsed >= 0 ? elapsed : undefined;
}
