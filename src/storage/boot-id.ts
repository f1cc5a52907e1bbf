import { readFileSync } from 'node:fs';

/**
 * Identifies this boot of the machine (Linux), or is empty elsewhere. Whatever a process wrote
 * about itself — its pid, the moment it stopped — means nothing once the machine has rebooted.
 */
export const bootId = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
})();

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC on Linux), which every process
 * of one boot shares and no wall-clock change moves.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}
