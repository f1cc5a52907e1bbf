import { setTimeout as sleep } from 'node:timers/promises';
import { isSafeToRetry, type ClientSession, type RaftNode, type ReadConsistency } from 'raftkit';
import type { KvMetrics } from '../metrics/kv-metrics.js';
import type { KvReadQuery } from '../state/kv-state-machine.js';
import { encodeWriteBatch, type WriteOperation } from '../state/write-batch-codec.js';
import { connectionDefaults } from './server-context.js';
import { WriteGatherer, type GatherLimits } from './write-gatherer.js';

/** The node type the key-value server embeds. */
export type KvNode = RaftNode<Uint8Array, KvReadQuery, Uint8Array>;

/** How long and how often the server retries on behalf of a client. */
export interface RetryPolicy {
  /** A client's request fails after this long, however many attempts it took. */
  readonly requestTimeoutMs: number;
  /** A read attempt that got no answer in this time is tried again (its leader may be gone). */
  readonly readAttemptTimeoutMs: number;
  /**
   * A write attempt that got no answer in this time is tried again under the same session number,
   * so the cluster applies it once whichever attempt got through.
   */
  readonly writeAttemptTimeoutMs: number;
  /** Attempts of one request at most. */
  readonly attemptsMax: number;
  /** Wait before the first retry, doubled after each, up to `retryDelayMsMax`. */
  readonly retryDelayMsMin: number;
  readonly retryDelayMsMax: number;
}

export const retryPolicyDefaults: RetryPolicy = Object.freeze({
  requestTimeoutMs: 5000,
  readAttemptTimeoutMs: 1000,
  writeAttemptTimeoutMs: 2000,
  attemptsMax: 64,
  retryDelayMsMin: 20,
  retryDelayMsMax: 200,
});

/**
 * Runs batches of client operations through the node: the write runs of one turn as one proposal
 * (see {@link WriteGatherer}), reads as one `read` each, retrying where that is safe and timing
 * both for the metrics. Writes go through one client session of this server (docs/sessions.md), so
 * a write it retries — after a lost forward, a leader change, a timeout — is applied at most once,
 * and the retry gets the first answer.
 */
export class RequestExecutor {
  readonly #node: KvNode;
  readonly #metrics: KvMetrics;
  readonly #policy: RetryPolicy;
  readonly #clock: () => number;
  #session: Promise<ClientSession<Uint8Array>> | null = null;
  /** The session once registered: a write then starts without awaiting the registration. */
  #opened: ClientSession<Uint8Array> | null = null;
  readonly #gatherer: WriteGatherer;

  constructor(options: {
    readonly node: KvNode;
    readonly metrics: KvMetrics;
    readonly policy?: Partial<RetryPolicy>;
    /** The wall clock stamped on proposals; tests pass a fake one. */
    readonly clock?: () => number;
    /** How large the proposal that gathers one turn's writes may grow; the connection's limits. */
    readonly gatherLimits?: GatherLimits;
  }) {
    this.#node = options.node;
    this.#metrics = options.metrics;
    this.#policy = { ...retryPolicyDefaults, ...options.policy };
    this.#clock = options.clock ?? Date.now;
    this.#gatherer = new WriteGatherer({
      propose: (operations) => this.#propose(operations),
      limits: options.gatherLimits ?? {
        operationsMax: connectionDefaults.batchOperationsMax,
        bytesMax: connectionDefaults.batchBytesMax,
      },
    });
  }

  /**
   * Proposes `operations` in one log entry, together with the other writes of this turn; resolves
   * with their replies, concatenated.
   */
  write(operations: readonly WriteOperation[]): Promise<Uint8Array> {
    return this.#gatherer.write(operations);
  }

  /** Proposes `operations` as one log entry; resolves with their replies, concatenated. */
  async #propose(operations: readonly WriteOperation[]): Promise<Uint8Array> {
    const started = performance.now();
    const deadline = started + this.#policy.requestTimeoutMs;
    try {
      const session = this.#opened ?? (await this.#openSession(deadline));
      // Every attempt carries the same bytes: a retry is the same command, answered once. The
      // session holds the whole deadline itself: no signal, timer or listener per write.
      const replies = await session.propose(
        encodeWriteBatch({ timeMs: this.#clock(), operations }),
        {
          timeoutMs: this.#policy.writeAttemptTimeoutMs,
          totalTimeoutMs: Math.max(1, Math.round(deadline - performance.now())),
        },
      );
      this.#metrics.commitSeconds.observe((performance.now() - started) / 1000);
      this.#metrics.writeBatches++;
      this.#metrics.writeOperations += operations.length;
      return replies;
    } catch (error) {
      this.#metrics.writeErrors++;
      throw error;
    }
  }

  /** Reads `operations` against one state at `consistency`; resolves with their replies. */
  async read(
    operations: readonly (readonly Uint8Array[])[],
    consistency: ReadConsistency,
  ): Promise<Uint8Array> {
    const started = performance.now();
    const deadline = started + this.#policy.requestTimeoutMs;
    try {
      // Reads change nothing: every transient failure may be retried within the deadline.
      const replies = await this.#retry(deadline, (timeoutMs) =>
        this.#node.read(
          { operations },
          { consistency, timeoutMs: Math.min(timeoutMs, this.#policy.readAttemptTimeoutMs) },
        ),
      );
      this.#metrics.readSeconds.observe((performance.now() - started) / 1000);
      this.#metrics.readBatches++;
      return replies;
    } catch (error) {
      this.#metrics.readErrors++;
      throw error;
    }
  }

  /**
   * The server's session, registered on first use; a failed registration is forgotten so the next
   * write tries again. The session renews itself when the cluster expired it.
   */
  #openSession(deadline: number): Promise<ClientSession<Uint8Array>> {
    if (this.#session !== null) return this.#session;
    const { attemptsMax, retryDelayMsMin, retryDelayMsMax } = this.#policy;
    const opening = this.#retry(deadline, (timeoutMs) =>
      this.#node.openSession({
        timeoutMs,
        attemptsMax,
        retryDelayMs: retryDelayMsMin,
        retryDelayMsMax,
      }),
    );
    this.#session = opening;
    opening.then(
      (session) => {
        if (this.#session === opening) this.#opened = session;
      },
      () => {
        if (this.#session === opening) this.#session = null;
      },
    );
    return opening;
  }

  /** Proposes a batch with no operations: it only carries this server's clock into the log. */
  async advanceClock(): Promise<void> {
    await this.#node.propose(encodeWriteBatch({ timeMs: this.#clock(), operations: [] }), {
      timeoutMs: this.#policy.requestTimeoutMs,
    });
  }

  /**
   * Tries `attempt` until it succeeds, the deadline or the attempt budget runs out, or it fails in
   * a way that retrying could not fix or could apply twice (see `isSafeToRetry`). Writes reach
   * here only to register the session; the session itself retries the writes.
   */
  async #retry<T>(deadline: number, attempt: (timeoutMs: number) => Promise<T>): Promise<T> {
    let delayMs = this.#policy.retryDelayMsMin;
    for (let attempts = 1; ; attempts++) {
      const remainingMs = Math.max(1, Math.round(deadline - performance.now()));
      try {
        return await attempt(remainingMs);
      } catch (error) {
        const giveUp =
          !isSafeToRetry(error) ||
          attempts >= this.#policy.attemptsMax ||
          performance.now() + delayMs >= deadline;
        if (giveUp) throw error;
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, this.#policy.retryDelayMsMax);
    }
  }
}
