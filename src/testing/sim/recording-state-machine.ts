import type { ApplyContext, StateMachine } from '../../node/state-machine.js';
import { commandKey } from './entry-key.js';

/** One entry a node applied: its position and what it held (`null` for a non-command entry). */
export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  /** The command's bytes as {@link commandKey}, or `null` for a noop, configuration or settings. */
  readonly command: string | null;
}

/**
 * Wraps the user's state machine to tell the checkers every entry it applies, before the user's
 * code runs. A retried apply of the same index is reported once.
 */
export class RecordingStateMachine<Result, Query, Answer> implements StateMachine<
  Result,
  Query,
  Answer
> {
  readonly #inner: StateMachine<Result, Query, Answer>;
  readonly #onApply: (entry: AppliedEntry) => void;
  #lastIndex = -1;

  constructor(inner: StateMachine<Result, Query, Answer>, onApply: (entry: AppliedEntry) => void) {
    this.#inner = inner;
    this.#onApply = onApply;
    if (inner.query !== undefined) this.query = (query) => inner.query!(query);
    if (inner.appliedIndex !== undefined) this.appliedIndex = () => inner.appliedIndex!();
  }

  /** The user's state machine. */
  get inner(): StateMachine<Result, Query, Answer> {
    return this.#inner;
  }

  query?: (query: Query) => Answer | Promise<Answer>;
  appliedIndex?: () => number | Promise<number>;

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
