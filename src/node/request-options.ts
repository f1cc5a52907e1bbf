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
