import { writeFileSync } from 'node:fs';
import type { KeyValueInput, KeyValueOperation, KeyValueOutput } from 'raftkit/testing';

/** The operations the workload issues, named as in `history.json`. */
export type HistoryOperationName = 'get' | 'put' | 'append';

/**
 * One operation as written to `history.json`, in a shape any external checker can read. Times are
 * monotonic nanoseconds since the run started; `return` is null when the outcome is unknown (the
 * client timed out or lost its connection after sending), so the operation may or may not have
 * taken effect. Operations the server definitely refused are not listed: they had no effect.
 */
export interface HistoryEntry {
  /** A client process; a client that saw an unknown outcome continues under a new number. */
  readonly client: number;
  readonly op: HistoryOperationName;
  readonly key: string;
  /** What `put` wrote or `append` added. */
  readonly value?: string;
  /** What `get` read: the value, or null for a key that does not exist (the same as ""). */
  readonly output?: string | null;
  readonly call: number;
  readonly return: number | null;
}

/**
 * Collects the history of a run as operations complete, in call order, with a bound: a run that
 * would record more stops recording and says so, rather than grow without limit.
 */
export class RunHistory {
  readonly #entries: HistoryEntry[] = [];
  readonly #entriesMax: number;
  readonly #originNs: bigint;
  #refused = 0;
  #dropped = 0;

  constructor(options: { readonly entriesMax: number; readonly originNs?: bigint }) {
    this.#entriesMax = options.entriesMax;
    this.#originNs = options.originNs ?? process.hrtime.bigint();
  }

  /** Monotonic nanoseconds since the run started. */
  now(): number {
    return Number(process.hrtime.bigint() - this.#originNs);
  }

  /** Records a finished or unknown operation. */
  add(entry: HistoryEntry): void {
    if (this.#entries.length >= this.#entriesMax) {
      this.#dropped++;
      return;
    }
    this.#entries.push(entry);
  }

  /** Counts an operation the server definitely refused (left out of the history). */
  refused(): void {
    this.#refused++;
  }

  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  /** Operations definitely refused. */
  get refusedCount(): number {
    return this.#refused;
  }

  /** Operations not recorded because the history was full (a run with any cannot pass). */
  get droppedCount(): number {
    return this.#dropped;
  }

  /** Writes the history in call order, one operation per line inside one JSON array. */
  write(path: string): void {
    const sorted = [...this.#entries].sort((left, right) => left.call - right.call);
    const lines = sorted.map((entry) => JSON.stringify(entry));
    writeFileSync(path, `[\n${lines.join(',\n')}\n]\n`);
  }
}

/** The history as the test kit's linearizability checker reads it. */
export function toCheckerHistory(entries: readonly HistoryEntry[]): KeyValueOperation[] {
  return entries.map((entry): KeyValueOperation => {
    const input: KeyValueInput =
      entry.op === 'get'
        ? { kind: 'get', key: entry.key }
        : { kind: entry.op, key: entry.key, value: entry.value ?? '' };
    const base = { process: entry.client, input, callTime: entry.call };
    if (entry.return === null) return { ...base, status: 'pending' };
    const output: KeyValueOutput = entry.op === 'get' ? (entry.output ?? null) : null;
    return { ...base, status: 'ok', output, returnTime: entry.return };
  });
}

/** Counts per operation name and outcome, for the summary. */
export function countOperations(
  entries: readonly HistoryEntry[],
): Record<HistoryOperationName, { ok: number; unknown: number }> {
  const counts = {
    get: { ok: 0, unknown: 0 },
    put: { ok: 0, unknown: 0 },
    append: { ok: 0, unknown: 0 },
  };
  for (const entry of entries) counts[entry.op][entry.return === null ? 'unknown' : 'ok']++;
  return counts;
}
