import { RaftError } from './errors.js';
import { jointVote } from './quorum.js';
import { broadcastHeartbeat, quorumAcknowledgedRound } from './lease.js';
import type { CoreState } from './state.js';
import type { NodeId } from './types.js';

/**
 * Starts a ReadIndex read for `from` (this server or a follower). The leader first needs an entry
 * of its own term committed, so its commit index is known current; until then the request waits.
 */
export function requestRead(state: CoreState, from: NodeId, context: number): void {
  if (state.role !== 'leader') {
    answerRead(state, from, context, null);
    return;
  }
  const waiting = state.pendingReads.length + state.readsAwaitingCommit.length;
  if (waiting >= state.options.pendingReadsMax) {
    if (from === state.id) {
      throw new RaftError('BUSY', 'too many reads awaiting confirmation', {
        details: { outcome: 'not-applied' },
      });
    }
    answerRead(state, from, context, null);
    return;
  }
  if (state.log.term(state.log.committed) !== state.term) {
    state.readsAwaitingCommit.push({ from, context });
    return;
  }
  if (jointVote(state.voterSets, (id) => id === state.id || undefined) === 'won') {
    answerRead(state, from, context, state.log.committed);
    return;
  }
  const round = broadcastHeartbeat(state);
  state.pendingReads.push({ round, index: state.log.committed, from, context });
}

/** Once the leader commits in its own term, the reads that waited for it can start. */
export function releaseReadsAwaitingCommit(state: CoreState): void {
  if (state.readsAwaitingCommit.length === 0) return;
  if (state.log.term(state.log.committed) !== state.term) return;
  for (const { from, context } of state.readsAwaitingCommit.splice(0)) {
    requestRead(state, from, context);
  }
}

/**
 * Answers the reads whose round a quorum has now acknowledged: leadership held after they
 * arrived. Rounds only grow, so the confirmed reads are a prefix of the queue.
 */
export function confirmReads(state: CoreState): void {
  if (state.pendingReads.length === 0) return;
  const confirmedRound = quorumAcknowledgedRound(state);
  let confirmed = 0;
  while (
    confirmed < state.pendingReads.length &&
    state.pendingReads[confirmed]!.round <= confirmedRound
  ) {
    confirmed++;
  }
  for (const read of state.pendingReads.splice(0, confirmed)) {
    answerRead(state, read.from, read.context, read.index);
  }
}

/**
 * Answers a read locally (a Ready read state) or to the follower that asked; `index` null refuses
 * it. On the wire a refusal is index -1, the one value no confirmed read can have.
 */
export function answerRead(
  state: CoreState,
  from: NodeId,
  context: number,
  index: number | null,
): void {
  if (from === state.id) {
    state.readStates.push(
      index === null ? { context, confirmed: false } : { context, confirmed: true, index },
    );
    return;
  }
  state.send({
    type: 'read-index-response',
    term: state.term,
    from: state.id,
    to: from,
    context,
    index: index ?? -1,
  });
}

/** Leadership ended: every read still pending fails, so no caller waits for an answer in vain. */
export function failPendingReads(state: CoreState): void {
  const pending = [...state.pendingReads.splice(0), ...state.readsAwaitingCommit.splice(0)];
  for (const read of pending) answerRead(state, read.from, read.context, null);
}
