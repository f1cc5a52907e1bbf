/** Everything a node counts, for `status()` and metrics. */
export interface NodeCounterValues {
  readonly proposals: number;
  readonly reads: number;
  readonly proposalsForwarded: number;
  readonly proposalsCancelled: number;
  readonly duplicateForwardsIgnored: number;
  readonly entriesPersisted: number;
  readonly entriesApplied: number;
  readonly storageWrites: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly messagesRejected: number;
  readonly elections: number;
  readonly leaderChanges: number;
  readonly applyRetries: number;
  readonly listenerErrors: number;
  readonly snapshotsTaken: number;
  readonly snapshotsSent: number;
  readonly snapshotsInstalled: number;
  readonly snapshotBytesSent: number;
  readonly snapshotBytesReceived: number;
  /** Configuration entries that entered this server's log. */
  readonly membershipAppended: number;
  /** Configuration entries applied here. */
  readonly membershipCommitted: number;
  /** Configuration entries a new leader truncated away. */
  readonly membershipAborted: number;
  /** Catch-up rounds run for learners being promoted (on the leader). */
  readonly catchUpRounds: number;
  /** Join requests refused because the server lost its disk (`DATA_LOST`). */
  readonly joinsRefused: number;
  /** Session commands answered from the session table instead of applied again (duplicates). */
  readonly sessionAnswersReplayed: number;
  /** Session commands not applied: unknown session or a sequence no longer remembered. */
  readonly sessionCommandsRefused: number;
}

type CounterName = keyof NodeCounterValues;

/**
 * Monotonic counters, one public field each, read as a copy. Fields rather than a record indexed
 * by name: the hot paths count on every message and proposal, and one `increment(name)` shared by
 * thirty names made every count a megamorphic keyed access.
 */
export class NodeCounters implements NodeCounterValues {
  proposals = 0;
  reads = 0;
  proposalsForwarded = 0;
  proposalsCancelled = 0;
  duplicateForwardsIgnored = 0;
  entriesPersisted = 0;
  entriesApplied = 0;
  storageWrites = 0;
  messagesSent = 0;
  messagesReceived = 0;
  messagesRejected = 0;
  elections = 0;
  leaderChanges = 0;
  applyRetries = 0;
  listenerErrors = 0;
  snapshotsTaken = 0;
  snapshotsSent = 0;
  snapshotsInstalled = 0;
  snapshotBytesSent = 0;
  snapshotBytesReceived = 0;
  membershipAppended = 0;
  membershipCommitted = 0;
  membershipAborted = 0;
  catchUpRounds = 0;
  joinsRefused = 0;
  sessionAnswersReplayed = 0;
  sessionCommandsRefused = 0;

  /** Counts one, for a name chosen at run time; hot paths write the field itself. */
  increment(name: CounterName): void {
    this[name]++;
  }

  values(): NodeCounterValues {
    return { ...this };
  }
}
