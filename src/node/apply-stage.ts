import type { Entry, RaftError, Ready } from '../core/index.js';
import type { AppliedResults, EntryApplier } from './entry-applier.js';

/** Who hears about applied entries: each one's listener, in the order they run. */
export interface AppliedListeners {
  readonly applier: EntryApplier;
  readonly snapshots: { onApplied(entries: readonly Entry[]): void };
  /** `result` is what applying `entry` gave (see {@link AppliedResults}). */
  readonly proposals: { settle(entry: Entry, result: unknown): void };
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
 * state machine has reached. With a synchronous state machine it all happens at once and nothing
 * is returned; from the first asynchronous apply on, the rest follows and the promise says when.
 */
export function applyReadies(
  listeners: AppliedListeners,
  readies: readonly Ready[],
): Promise<void> | undefined {
  for (let position = 0; position < readies.length; position++) {
    const ready = readies[position]!;
    if (ready.committed.length > 0) {
      const applied = listeners.applier.apply(ready.committed);
      if (applied instanceof Promise) return applyRest(listeners, readies, position, applied);
      settleApplied(listeners, ready.committed, applied);
    }
    takeReads(listeners, ready);
  }
  listeners.reads.serveApplied(listeners.applier.appliedIndex);
  return undefined;
}

async function applyRest(
  listeners: AppliedListeners,
  readies: readonly Ready[],
  position: number,
  pending: Promise<AppliedResults>,
): Promise<void> {
  const ready = readies[position]!;
  settleApplied(listeners, ready.committed, await pending);
  takeReads(listeners, ready);
  await applyReadies(listeners, readies.slice(position + 1));
}

/** The callers and listeners of entries just applied (`results` holds one per entry). */
function settleApplied(
  listeners: AppliedListeners,
  entries: readonly Entry[],
  results: AppliedResults,
): void {
  listeners.snapshots.onApplied(entries);
  const { proposals } = listeners;
  for (let position = 0; position < entries.length; position++) {
    proposals.settle(entries[position]!, results[position]);
  }
  listeners.membership.applied(entries);
  listeners.events.applied(entries, listeners.applier.appliedIndex);
}

function takeReads(listeners: AppliedListeners, ready: Ready): void {
  if (ready.reads.length === 0) return;
  const { applier, reads } = listeners;
  reads.onReadStates(ready.reads, applier.appliedIndex, listeners.notLeader());
}
