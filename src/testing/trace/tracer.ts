import { RaftError } from '../../core/errors.js';
import type { TraceRow } from './trace-row.js';

/** Options for {@link Tracer}. */
export interface TracerOptions {
  /** Rows kept; beyond it the oldest are dropped and counted. Default 100,000. */
  readonly rowsMax?: number;
}

/** Defaults for {@link TracerOptions}. */
export const tracerDefaults = Object.freeze({ rowsMax: 100_000 });

/** Called with every row as it is recorded. */
export type TraceListener = (row: TraceRow) => void;

/**
 * Collects trace rows in a bounded ring buffer: a long simulation keeps its most recent events,
 * which are the ones that explain a failure, and reports how many older ones it dropped.
 */
export class Tracer {
  readonly #rowsMax: number;
  readonly #rows: TraceRow[] = [];
  /** Once the buffer is full, the slot the next row overwrites, which holds the oldest row. */
  #oldest = 0;
  #dropped = 0;
  readonly #listeners = new Set<TraceListener>();

  constructor(options: TracerOptions = {}) {
    const rowsMax = options.rowsMax ?? tracerDefaults.rowsMax;
    if (!Number.isInteger(rowsMax) || rowsMax < 1) {
      throw new RaftError('INVALID_CONFIG', `rowsMax must be a positive integer, got ${rowsMax}`);
    }
    this.#rowsMax = rowsMax;
  }

  /** Rows currently kept. */
  get size(): number {
    return this.#rows.length;
  }

  /** Rows dropped because the buffer was full, since construction or the last {@link clear}. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Keeps the row, dropping the oldest if the buffer is full, then passes it to every listener.
   * A listener that throws is the caller's bug and propagates; the row is kept regardless.
   */
  record(row: TraceRow): void {
    if (this.#rows.length < this.#rowsMax) {
      this.#rows.push(row);
    } else {
      this.#rows[this.#oldest] = row;
      this.#oldest = (this.#oldest + 1) % this.#rowsMax;
      this.#dropped++;
    }
    for (const listener of this.#listeners) listener(row);
  }

  /** The rows kept, oldest first. */
  rows(): TraceRow[] {
    return [...this.#rows.slice(this.#oldest), ...this.#rows.slice(0, this.#oldest)];
  }

  /** The most recent `count` rows (fewer if fewer are kept), oldest first. */
  last(count: number): TraceRow[] {
    if (!Number.isInteger(count) || count < 0) {
      throw new RaftError('INVALID_CONFIG', `count must be a non-negative integer, got ${count}`);
    }
    // Read only the slots needed: the simulator asks for the tail of a full buffer on every failure.
    const rows = this.#rows;
    const taken = Math.min(count, rows.length);
    const tail: TraceRow[] = [];
    for (let offset = rows.length - taken; offset < rows.length; offset++) {
      tail.push(rows[(this.#oldest + offset) % rows.length]!);
    }
    return tail;
  }

  /** Forgets every row and resets the dropped count; listeners stay subscribed. */
  clear(): void {
    this.#rows.length = 0;
    this.#oldest = 0;
    this.#dropped = 0;
  }

  /** Calls `listener` with every row recorded from now on; returns the function that stops it. */
  subscribe(listener: TraceListener): () => void {
    // A wrapper per subscription, so subscribing the same function twice needs two unsubscribes.
    const subscription: TraceListener = (row) => listener(row);
    this.#listeners.add(subscription);
    return () => {
      this.#listeners.delete(subscription);
    };
  }
}
