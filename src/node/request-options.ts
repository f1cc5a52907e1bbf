import { RaftError } from '../core/index.js';

/** Per-call options of `propose` and of every other request that waits for the cluster. */
export interface ProposeOptions {
  /** Rejects with `ABORTED` (or `OUTCOME_UNKNOWN` once the command is in the log) when fired. */
  readonly signal?: AbortSignal;
  /** Overrides the node's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** How fresh a read must be. */
export type ReadConsistency = 'linearizable' | 'lease' | 'stale';

/** Per-call options of `read`. */
export interface ReadOptions extends ProposeOptions {
  /**
   * `linearizable` (default): reflects every write acknowledged before the read began, confirmed
   * with one heartbeat round (ReadIndex), never a log write. `lease`: the leader skips that round
   * while its CheckQuorum lease holds (assumes bounded clock drift); elsewhere it falls back to
   * `linearizable`. `stale`: this server's state as it is, possibly behind.
   */
  readonly consistency?: ReadConsistency;
}

/**
 * Why per-call options are unusable, or null. Checked before anything enters the log: a request
 * refused for its options never reached the cluster, so the caller may fix it and retry safely.
 */
export function findOptionsError(options: ReadOptions): RaftError | null {
  const invalid = (option: string, message: string): RaftError =>
    new RaftError('INVALID_CONFIG', message, { details: { option, retryable: false } });
  if (typeof options !== 'object' || options === null) {
    return invalid('options', 'request options must be an object');
  }
  const { timeoutMs, signal, consistency } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    return invalid(
      'timeoutMs',
      `timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return invalid('signal', 'signal must be an AbortSignal');
  }
  if (consistency !== undefined && !['linearizable', 'lease', 'stale'].includes(consistency)) {
    return invalid(
      'consistency',
      `consistency must be linearizable, lease or stale, got ${String(consistency)}`,
    );
  }
  return null;
}
