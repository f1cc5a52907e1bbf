import { splitReplies } from '../resp/reply-boundaries.js';
import {
  emptyBatchBytes,
  encodedOperationBytes,
  type WriteOperation,
} from '../state/write-batch-codec.js';

/** How large one gathered proposal may grow. */
export interface GatherLimits {
  /** Operations in one proposal; a single run larger than this still goes alone. */
  readonly operationsMax: number;
  /** Encoded bytes of one proposal's log entry, as for one connection's run. */
  readonly bytesMax: number;
}

/** One connection's run of writes, waiting for the proposal it joins. */
interface GatheredRun {
  readonly operations: readonly WriteOperation[];
  readonly bytes: number;
  readonly resolve: (replies: Uint8Array) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the write runs that connections start during one turn of the event loop into one
 * proposal: one log entry, one session number and one trip through the node for all of them,
 * where each connection's run used to be a proposal of its own. The turn ends once every I/O
 * callback in it has run (`setImmediate`), so a server that heard from 128 clients at once
 * proposes once, and a lone client waits for nothing more than the end of its own callback.
 *
 * The state machine answers a proposal with the replies of its operations in order; they are cut
 * back into each run's share by counting replies. A proposal that fails fails every run in it, as
 * the operations of one connection's run already share one fate. Each connection has at most one
 * run in flight, so what waits here is bounded by the connection limit.
 */
export class WriteGatherer {
  readonly #propose: (operations: readonly WriteOperation[]) => Promise<Uint8Array>;
  readonly #limits: GatherLimits;
  readonly #defer: (run: () => void) => void;
  #waiting: GatheredRun[] = [];

  constructor(options: {
    /** Proposes operations as one log entry; resolves with their replies, concatenated. */
    readonly propose: (operations: readonly WriteOperation[]) => Promise<Uint8Array>;
    readonly limits: GatherLimits;
    /** Runs a callback at the end of this turn; `setImmediate` unless a test drives it. */
    readonly defer?: (run: () => void) => void;
  }) {
    this.#propose = options.propose;
    this.#limits = options.limits;
    this.#defer = options.defer ?? ((run) => void setImmediate(run));
  }

  /** Joins `operations` to this turn's proposal; resolves with their replies. */
  write(operations: readonly WriteOperation[]): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let bytes = 0;
      for (const operation of operations) bytes += encodedOperationBytes(operation);
      this.#waiting.push({ operations, bytes, resolve, reject });
      if (this.#waiting.length === 1) this.#defer(() => this.#flush());
    });
  }

  #flush(): void {
    const runs = this.#waiting;
    this.#waiting = [];
    let start = 0;
    while (start < runs.length) {
      let end = start + 1;
      let operations = runs[start]!.operations.length;
      let bytes = emptyBatchBytes + runs[start]!.bytes;
      while (end < runs.length) {
        const next = runs[end]!;
        operations += next.operations.length;
        bytes += next.bytes;
        if (operations > this.#limits.operationsMax || bytes > this.#limits.bytesMax) break;
        end++;
      }
      this.#proposeTogether(runs.slice(start, end));
      start = end;
    }
  }

  #proposeTogether(runs: readonly GatheredRun[]): void {
    const only = runs.length === 1 ? runs[0]! : null;
    if (only !== null) {
      this.#propose(only.operations).then(only.resolve, only.reject);
      return;
    }
    this.#propose(runs.flatMap((run) => run.operations)).then(
      (replies) => {
        let shares: Uint8Array[];
        try {
          shares = splitReplies(
            replies,
            runs.map((run) => run.operations.length),
          );
        } catch (error) {
          for (const run of runs) run.reject(error);
          return;
        }
        runs.forEach((run, position) => run.resolve(shares[position]!));
      },
      (error: unknown) => {
        for (const run of runs) run.reject(error);
      },
    );
  }
}
