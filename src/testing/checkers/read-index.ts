import type { ReadState } from '../../core/index.js';
import type { ViolationLog } from './safety-violation.js';

/** Reads awaiting an answer at most; the oldest is forgotten beyond it (its answer was lost). */
export const pendingReadsTrackedMax = 10_000;

interface PendingRead {
  readonly server: string;
  /** The highest commit index any server had when the read was asked for. */
  readonly floor: number;
}

/**
 * Judges ReadIndex answers (thesis §6.4). A read asked for when some server had already committed
 * index `c` must be served at an index of at least `c`: everything committed before the read began
 * may have been acknowledged to a client, and a linearizable read must see it. A stale leader that
 * answers without confirming it still leads, or before its commit index is current, answers lower.
 * It judges the core's answers; the simulator judges what clients see with a linearizability
 * checker over their whole history instead.
 */
export class ReadIndexChecker {
  readonly #log: ViolationLog;
  readonly #pending = new Map<number, PendingRead>();
  #lastContext = 0;
  #answered = 0;

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** Reads answered and judged so far. */
  get answered(): number {
    return this.#answered;
  }

  /** Registers a read that `server` is about to ask for; returns the context to ask with. */
  request(server: string, floor: number): number {
    const context = ++this.#lastContext;
    this.#pending.set(context, { server, floor });
    if (this.#pending.size > pendingReadsTrackedMax) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
    }
    return context;
  }

  /** The read with `context` was never asked for after all (the core refused it). */
  cancel(context: number): void {
    this.#pending.delete(context);
  }

  /** `server` restarted: its reads will never be served. */
  forget(server: string): void {
    for (const [context, read] of this.#pending) {
      if (read.server === server) this.#pending.delete(context);
    }
  }

  /** `server` took `read` from its core; a stale answer is a linearizability violation. */
  answer(server: string, read: ReadState): void {
    const pending = this.#pending.get(read.context);
    if (pending === undefined || pending.server !== server) return;
    this.#pending.delete(read.context);
    // A failed confirmation serves nothing.
    if (!read.confirmed) return;
    this.#answered++;
    this.#log.count();
    if (read.index < pending.floor) {
      this.#log.report(
        'linearizability',
        `${server} served read ${read.context} at index ${read.index}, but index ${pending.floor} was committed before the read began`,
      );
    }
  }
}
