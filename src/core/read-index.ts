import { RaftError } from './errors.js';
import { jointVote } from './quorum.js';
import { broadcastHeartbeat } from './replication.js';
import type { CoreState } from './state.js';
import type { NodeId } from './types.js';

/** The answer to a read request: serve it once the state machine has applied `index`. */
export interface ReadState {
  /** The context the requester chose. */
  readonly context: number;
  /** The commit index the read may be served at, or -1 when leadership could not be confirmed. */
  readonly index: number;
}

/** A read the leader is confirming with a heartbeat round (thesis §6.4). */
export interface PendingRead {
  readonly round: number;
  readonly index: number;
  readonly from: NodeId;
  readonly context: number;
  readonly acknowledged: Set<NodeId>;
}

/**
 * Starts a ReadIndex read for `from` (this server or a follower). The leader first needs an entry
 * of its own term committed, so its commit index is known current; until then the request waits.
 */
export function requestRead(state: CoreState, from: NodeId, context: number): void {
  if (state.role !== 'leader') {
    answerRead(state, from, context, -1);
    return;
  }
  const waiting = state.pendingReads.length + state.readsAwaitingCommit.length;
  if (waiting >= state.options.pendingReadsMax) {
    if (from === state.id) {
      throw new RaftError('BUSY', 'too many reads awaiting confirmation', {
        details: { retryable: true },
      });
    }
    answerRead(state, from, context, -1);
    return;
  }
  if (state.log.term(state.log.committed) !== state.term) {
    state.readsAwaitingCommit.push({ from, context });
    return;
  }
  const acknowledged = new Set([state.id]);
  if (jointVote(state.voterSets, (id) => acknowledged.has(id) || undefined) === 'won') {
    answerRead(state, from, context, state.log.committed);
    return;
  }
  const round = ++state.readRound;
  state.pendingReads.push({ round, index: state.log.committed, from, context, acknowledged });
  broadcastHeartbeat(state, round);
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
 * A heartbeat reply for round `round`: the follower still follows us. When a quorum has answered a
 * round, that read and every earlier one are confirmed: leadership held after they arrived.
 */
export function acknowledgeReadRound(state: CoreState, from: NodeId, round: number): void {
  let confirmedThrough = -1;
  for (let position = 0; position < state.pendingReads.length; position++) {
    const read = state.pendingReads[position]!;
    if (read.round > round) break;
    if (read.round === round) read.acknowledged.add(from);
    const outcome = jointVote(state.voterSets, (id) => read.acknowledged.has(id) || undefined);
    if (outcome === 'won') confirmedThrough = position;
  }
  if (confirmedThrough < 0) return;
  for (const read of state.pendingReads.splice(0, confirmedThrough + 1)) {
    answerRead(state, read.from, read.context, read.index);
  }
}

/** Answers a read locally (a Ready read state) or to the follower that asked. */
export function answerRead(state: CoreState, from: NodeId, context: number, index: number): void {
  if (from === state.id) {
    state.readStates.push({ context, index });
    return;
  }
  state.send({
    type: 'read-index-response',
    term: state.term,
    from: state.id,
    to: from,
    context,
    index,
  });
}

/** Leadership ended: every read still pending fails, so no caller waits for an answer in vain. */
export function failPendingReads(state: CoreState): void {
  const pending = [...state.pendingReads.splice(0), ...state.readsAwaitingCommit.splice(0)];
  for (const read of pending) answerRead(state, read.from, read.context, -1);
}
