import type { Entry, RaftError, Ready } from '../core/index.js';
import type { EntryApplier } from './entry-applier.js';

/** Who hears about applied entries: each one's listener, in the order they run. */
export interface AppliedListeners {
  readonly applier: EntryApplier;
  readonly snapshots: { onApplied(entries: readonly Entry[]): void };
  readonly proposals: { settle(entry: Entry, result: unknown, error?: RaftError): void };
  readonly membership: { applied(entries: readonly Entry[]): void };
  readonly events: { applied(entries: readonly Entry[], appliedIndex: number): void };
  readonly reads: {
    onReadStates(reads: Ready['reads'], appliedIndex: number, refusal: RaftError): void;
    serveApplied(appliedIndex: number): void;
  };
  /** The error reads get when this server cannot confirm them (it no longer leads). */
  readonly notLeader: () => RaftError;
}

/**
 * The last stage of the Ready pipeline: applies durable Ready values' committed entries in order,
 * settles each batch's callers together, tells listeners, then serves the reads whose index the
 * state machine has reached.
 */
export async function applyReadies(
  listeners: AppliedListeners,
  readies: readonly Ready[],
): Promise<void> {
  const { applier, reads } = listeners;
  for (const ready of readies) {
    if (ready.committed.length > 0) {
      const applied = await applier.apply(ready.committed);
      const entries = applied.map(({ entry }) => entry);
      listeners.snapshots.onApplied(entries);
      for (const { entry, result, error } of applied) {
        listeners.proposals.settle(entry, result, error);
      }
      listeners.membership.applied(entries);
      listeners.events.applied(entries, applier.appliedIndex);
    }
    if (ready.reads.length > 0) {
      reads.onReadStates(ready.reads, applier.appliedIndex, listeners.notLeader());
    }
  }
  reads.serveApplied(applier.appliedIndex);
}
