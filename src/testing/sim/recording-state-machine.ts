import type { ApplyContext, SnapshotPosition, StateMachine } from '../../node/state-machine.js';
import { commandKey } from '../checkers/entry-key.js';
import type { AppliedEntry } from '../checkers/state-machine-safety.js';

/**
 * Wraps the user's state machine to tell the checkers every entry it applies, before the user's
 * code runs, and every snapshot it restores, once the user's code replaced its state. A retried
 * apply of the same index is reported once. It snapshots exactly when the user's machine does.
 */
export class RecordingStateMachine<Result, Query, Answer> implements StateMachine<
  Result,
  Query,
  Answer
> {
  readonly #inner: StateMachine<Result, Query, Answer>;
  readonly #onApply: (entry: AppliedEntry) => void;
  #lastIndex = -1;

  constructor(
    inner: StateMachine<Result, Query, Answer>,
    onApply: (entry: AppliedEntry) => void,
    onRestore: (snapshot: SnapshotPosition) => void = () => undefined,
  ) {
    this.#inner = inner;
    this.#onApply = onApply;
    if (inner.query !== undefined) this.query = (query) => inner.query!(query);
    if (inner.appliedIndex !== undefined) this.appliedIndex = () => inner.appliedIndex!();
    if (inner.snapshot !== undefined && inner.restore !== undefined) {
      this.snapshot = () => inner.snapshot!();
      this.restore = async (chunks, snapshot) => {
        await inner.restore!(chunks, snapshot);
        this.#lastIndex = snapshot.index;
        onRestore(snapshot);
      };
    }
  }

  /** The user's state machine. */
  get inner(): StateMachine<Result, Query, Answer> {
    return this.#inner;
  }

  query?: (query: Query) => Answer | Promise<Answer>;
  appliedIndex?: () => number | Promise<number>;
  snapshot?: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  restore?: (chunks: AsyncIterable<Uint8Array>, snapshot: SnapshotPosition) => Promise<void>;

  apply(
    command: Uint8Array,
    context: ApplyContext,
  ): ReturnType<StateMachine<Result, Query, Answer>['apply']> {
    this.#record(context, commandKey(command));
    return this.#inner.apply(command, context);
  }

  skip(context: ApplyContext): void | Promise<void> {
    this.#record(context, null);
    return this.#inner.skip?.(context);
  }

  #record(context: ApplyContext, command: string | null): void {
    if (context.index === this.#lastIndex) return;
    this.#lastIndex = context.index;
    this.#onApply({ index: context.index, term: context.term, command });
  }
}
