import type { CommandRejection } from './command-rejection.js';

/**
 * Where a committed command sits in the log, for state machines that record it. The object is
 * read-only and may carry more fields than these (it is the log entry itself); read the two
 * named here.
 */
export interface ApplyContext {
  readonly index: number;
  readonly term: number;
}

/**
 * The application's replicated state. Every server applies the same commands in the same order, so
 * `apply` must be deterministic: no clock, no randomness, no reads of local files that differ
 * between servers.
 *
 * @typeParam Result - what `apply` returns to the caller of `propose`.
 * @typeParam Query - what `read` passes to `query`.
 * @typeParam Answer - what `query` returns.
 */
export interface StateMachine<Result = unknown, Query = unknown, Answer = unknown> {
  /**
   * Applies one committed command. The returned value (or promise) resolves the proposer's call.
   * To refuse the command, return `rejectCommand(reason, message)`: the state is left as it was,
   * the proposer gets `COMMAND_REJECTED`, and every server carries on. Throwing means the command
   * could not be applied and this server's state may have diverged: the node stops with
   * `APPLY_FAILED` (unless `idempotentCommands` allows retries). `command` is the log's own
   * bytes, shared with storage and the other servers' copies in process: read or keep it, never
   * change it.
   */
  apply(
    command: Uint8Array,
    context: ApplyContext,
  ): Result | CommandRejection | Promise<Result | CommandRejection>;
  /**
   * Answers a read against the current state. Called only once the state reflects every write the
   * requested consistency demands. Must not change the state.
   */
  query?(query: Query): Answer | Promise<Answer>;
  /**
   * Records that a log entry which is not a command (an empty entry of a new leader, a
   * configuration or settings change) was applied, so a durable state machine can keep its applied
   * index exact. Optional.
   */
  skip?(context: ApplyContext): void | Promise<void>;
  /**
   * The last index whose effects the state machine holds durably, read once at start. A state
   * machine that keeps its state in memory omits it: it starts empty and everything is applied
   * again from the log. One that persists its state must return the index it persisted in the same
   * transaction as the state, so no entry is ever applied twice.
   */
  appliedIndex?(): number | Promise<number>;
  /**
   * Captures the state as it is now — every entry up to the last one applied, nothing later —
   * and returns it as bytes to be read at leisure. Called between two applies; the capture itself
   * must be quick (copy-on-write, a persistent structure, a read transaction): applying resumes
   * while the returned chunks are consumed. Without `snapshot` and `restore` the node never
   * compacts its log.
   */
  snapshot?(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /**
   * Replaces the whole state with a snapshot's (one this server took earlier, or one the leader
   * sent). A durable state machine records `snapshot.index` as its applied index with the state.
   */
  restore?(chunks: AsyncIterable<Uint8Array>, snapshot: SnapshotPosition): void | Promise<void>;
}

/** Which log entries a snapshot covers: everything up to `index`, whose term is `term`. */
export interface SnapshotPosition {
  readonly index: number;
  readonly term: number;
}

/**
 * Turns results into bytes and back, so a follower that forwards a proposal can return the
 * leader's result to its caller.
 */
export interface ResultCodec<Result> {
  encode(result: Result): Uint8Array;
  decode(bytes: Uint8Array): Result;
}

/** Encodes results as JSON (`undefined` travels as `null`); enough for plain data. */
export const jsonResultCodec: ResultCodec<unknown> = Object.freeze({
  encode: (result: unknown) => new TextEncoder().encode(JSON.stringify(result ?? null)),
  decode: (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes)),
});
