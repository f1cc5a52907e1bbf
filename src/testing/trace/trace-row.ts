/** What happened in one trace row. */
export type TraceEvent =
  'send' | 'receive' | 'role' | 'commit' | 'apply' | 'fault' | 'client' | 'note';

/** A node's state after an event: only the fields that changed. */
export interface TraceNodeState {
  readonly role?: string;
  readonly term?: number;
  readonly lastIndex?: number;
  readonly commit?: number;
}

/** One event in a trace, as the runtime and the simulator report it. */
export interface TraceRow {
  /** Milliseconds, virtual (simulator) or real (runtime). */
  readonly time: number;
  /** The node where the event happened. */
  readonly node: string;
  readonly event: TraceEvent;
  /** The other end of a message: the receiver of a `send`, the sender of a `receive`. */
  readonly peer?: string;
  /** A one-line summary, e.g. `appendEntries term=2 prev=5/1 commit=5 entries=[6/2]`. */
  readonly message?: string;
  /** The node's state after the event: only the fields that changed. */
  readonly state?: TraceNodeState;
  /** Anything else worth a reader's attention, such as why a message was dropped. */
  readonly detail?: string;
}
