import type { InstallSnapshot, InstallSnapshotResponse } from './messages.js';
import type { CoreState } from './state.js';
import type { NodeId } from './types.js';

/**
 * Leader side: `to` needs entries this log no longer holds, so it must receive a snapshot. Puts its
 * progress in `snapshot` (no appends until the transfer ends) and asks the runtime, through the
 * next Ready, to stream the snapshot's data. Returns false when there is no snapshot to send (the
 * follower then waits, and the trace says why).
 */
export function sendSnapshot(state: CoreState, to: NodeId): boolean {
  const progress = state.progress.get(to)!;
  const snapshot = state.snapshot;
  if (snapshot === null || snapshot.index < state.log.snapshotIndex) {
    state.trace({ kind: 'snapshot', id: state.id, peer: to, event: 'unavailable', index: 0 });
    return false;
  }
  progress.becomeSnapshot(snapshot.index);
  state.snapshotTransfers.push({ to, snapshot });
  state.trace({ kind: 'snapshot', id: state.id, peer: to, event: 'send', index: snapshot.index });
  return true;
}

/**
 * Follower side of one snapshot chunk. A snapshot this server already holds the effect of — its
 * index committed here, or its last entry present with the same term — is answered at once with
 * an append acknowledgement, so the leader resumes replicating from the log (§7). Anything else
 * goes to the runtime, which stores the chunk and later installs the whole snapshot.
 */
export function handleInstallSnapshot(state: CoreState, message: InstallSnapshot): void {
  const log = state.log;
  const { index, term } = message.snapshot;
  if (index <= log.committed || log.matchTerm(index, term)) {
    if (log.commitTo(index)) state.trace({ kind: 'commit', id: state.id, commit: index });
    state.sendAppendAccepted(message.from, log.committed);
    return;
  }
  state.snapshotMessages.push(message);
}

/**
 * Leader side of a chunk acknowledgement: the follower is alive. The transfer itself (which chunk
 * next, retransmission) is the runtime's; the follower's progress leaves `snapshot` when it
 * acknowledges the snapshot's index with an append acknowledgement, or when the runtime reports
 * the transfer failed.
 */
export function handleInstallSnapshotResponse(
  state: CoreState,
  message: InstallSnapshotResponse,
): void {
  const progress = state.progress.get(message.from);
  if (progress === undefined) return;
  progress.recentActive = true;
  if (progress.state === 'snapshot' && progress.pendingSnapshot === message.snapshotIndex) {
    state.snapshotMessages.push(message);
  }
}
