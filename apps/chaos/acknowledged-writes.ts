import type { HistoryEntry } from './history.js';

/** An acknowledged write missing from the final state. */
export interface LostWrite {
  readonly key: string;
  readonly op: 'put' | 'append';
  readonly value: string;
  readonly finalValue: string;
}

/**
 * Checks that every acknowledged write is in the final value of its key, where nothing could have
 * replaced it: an acknowledged append must appear in the final value unless some put on that key
 * might have come after it, and an acknowledged put must begin the final value unless some other
 * put might have come after it.
 *
 * "Might have come after" uses only real time: a put that had not returned when the write was
 * called, or whose outcome is unknown, may be ordered after it. This is weaker than linearizability (which
 * the checker decides separately) but it names the lost write plainly.
 */
export function findLostWrites(
  entries: readonly HistoryEntry[],
  finalValues: ReadonlyMap<string, string | null>,
): LostWrite[] {
  const putsByKey = new Map<string, HistoryEntry[]>();
  for (const entry of entries) {
    if (entry.op !== 'put') continue;
    const puts = putsByKey.get(entry.key) ?? [];
    puts.push(entry);
    putsByKey.set(entry.key, puts);
  }
  const lost: LostWrite[] = [];
  for (const write of entries) {
    if (write.op === 'get' || write.return === null) continue;
    const written = write.value ?? '';
    const replaceable = (putsByKey.get(write.key) ?? []).some(
      (put) => put !== write && (put.return === null || put.return > write.call),
    );
    if (replaceable) continue;
    const finalValue = finalValues.get(write.key) ?? '';
    const present =
      write.op === 'append' ? finalValue.includes(written) : finalValue.startsWith(written);
    if (!present) lost.push({ key: write.key, op: write.op, value: written, finalValue });
  }
  return lost;
}
