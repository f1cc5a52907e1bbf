import { invariant } from './errors.js';
import type {
  AppendEntries,
  AppendAccepted,
  AppendEntriesResponse,
  AppendRejected,
  Heartbeat,
  HeartbeatResponse,
} from './messages.js';
import { jointIndex } from './quorum.js';
import { confirmReads, releaseReadsAwaitingCommit } from './read-index.js';
import { entryBytes } from './raft-log.js';
import { sendSnapshot } from './snapshot.js';
import type { CoreState } from './state.js';
import { entryPayload, type NodeId } from './types.js';

/**
 * Sends `to` the entries it is missing, if its progress allows another message now. With
 * `allowEmpty`, an empty append is sent when there is nothing new, to carry the commit index.
 * Returns whether a message was sent.
 */
export function sendAppend(state: CoreState, to: NodeId, allowEmpty = true): boolean {
  const progress = state.progress.get(to);
  if (progress === undefined || to === state.id || progress.paused) return false;
  const prevLogIndex = progress.next - 1;
  const prevLogTerm = state.log.term(prevLogIndex);
  // The entries this follower needs were compacted away: only a snapshot can catch it up.
  if (prevLogIndex < state.log.snapshotIndex) return sendSnapshot(state, to);
  invariant(prevLogTerm !== undefined, `leader holds entry ${prevLogIndex} for ${to}`);
  const entries = state.log.slice(progress.next, state.log.lastIndex + 1, {
    entriesMax: state.options.entriesPerMessageMax,
    bytesMax: state.options.messageBytesMax,
  });
  if (entries.length === 0 && !allowEmpty) return false;
  const message: AppendEntries = {
    type: 'append-entries',
    term: state.term,
    from: state.id,
    to,
    prevLogIndex,
    prevLogTerm,
    entries,
    commit: state.log.committed,
  };
  state.send(message);
  progress.sentCommit = Math.max(progress.sentCommit, message.commit);
  if (entries.length > 0) {
    const bytes = entries.reduce((sum, entry) => sum + entryBytes(entry), 0);
    progress.sentEntries(entries.at(-1)!.index, bytes);
  } else if (progress.state === 'probe') {
    progress.probeSent = true;
  }
  return true;
}

/**
 * Sends `to` as many appends as its window allows (pipelining). The first may be empty when
 * `allowEmpty` is set; later ones only carry entries. Bounded by the inflight limit.
 */
export function fillWindow(state: CoreState, to: NodeId, allowEmpty: boolean): void {
  for (let sent = 0; sent < state.options.inflightMessagesMax; sent++) {
    if (!sendAppend(state, to, sent === 0 && allowEmpty)) return;
  }
}

/** Sends every follower what it is missing (new entries, or the new commit index). */
export function broadcastAppend(state: CoreState): void {
  for (const id of state.progress.keys()) if (id !== state.id) fillWindow(state, id, true);
}

/**
 * Tells followers that have not heard the current commit index yet. Called once per Ready rather
 * than on every acknowledgement, so a burst of acknowledgements costs one message per follower.
 */
export function broadcastCommit(state: CoreState): void {
  for (const [id, progress] of state.progress) {
    if (id !== state.id && progress.sentCommit < state.log.committed) fillWindow(state, id, true);
  }
}

/**
 * Advances the commit index to the highest index a quorum holds — but only if that entry is of the
 * current term: entries of earlier terms commit only indirectly (§5.4.2, Figure 8).
 */
export function maybeCommit(state: CoreState): boolean {
  const quorumIndex = jointIndex(state.voterSets, (id) => state.progress.get(id)?.match ?? 0);
  if (quorumIndex === Infinity || quorumIndex <= state.log.committed) return false;
  if (state.log.term(quorumIndex) !== state.term) return false;
  const before = state.log.committed;
  state.log.commitTo(quorumIndex);
  releaseUncommitted(state, before, quorumIndex);
  state.trace({ kind: 'commit', id: state.id, commit: quorumIndex });
  releaseReadsAwaitingCommit(state);
  return true;
}

function releaseUncommitted(state: CoreState, from: number, to: number): void {
  for (let index = from + 1; index <= to; index++) {
    const entry = state.log.entry(index);
    if (entry !== undefined) state.uncommittedBytes -= entryPayload(entry)?.byteLength ?? 0;
  }
  state.uncommittedBytes = Math.max(0, state.uncommittedBytes);
}

/**
 * A follower's answer to an append. A function of the module rather than a closure made on every
 * append the follower handles.
 */
function respondToAppend(
  state: CoreState,
  to: NodeId,
  fields:
    | Pick<AppendAccepted, 'success' | 'matchIndex'>
    | Pick<AppendRejected, 'success' | 'rejectedIndex' | 'hintIndex' | 'hintTerm'>,
): void {
  state.send({ type: 'append-entries-response', term: state.term, from: state.id, to, ...fields });
}

/** Follower side of §5.3: accept entries that extend a matching prefix, reject with a hint otherwise. */
export function handleAppendEntries(state: CoreState, message: AppendEntries): void {
  const log = state.log;
  if (message.prevLogIndex < log.committed) {
    // Everything up to our commit index is settled; tell the leader where we really are.
    respondToAppend(state, message.from, { success: true, matchIndex: log.committed });
    return;
  }
  if (!log.matchTerm(message.prevLogIndex, message.prevLogTerm)) {
    const hint = log.findConflictByTerm(
      Math.min(message.prevLogIndex, log.lastIndex),
      message.prevLogTerm,
    );
    respondToAppend(state, message.from, {
      success: false,
      rejectedIndex: message.prevLogIndex,
      hintIndex: hint.index,
      hintTerm: hint.term,
    });
    return;
  }
  const result = log.appendFromLeader(message.prevLogIndex, message.entries);
  if (result.truncatedFrom > 0) state.forgetFrom(result.truncatedFrom);
  for (const entry of result.appended) state.recordEntry(entry);
  if (log.commitTo(Math.min(message.commit, result.lastNewIndex))) {
    state.trace({ kind: 'commit', id: state.id, commit: log.committed });
  }
  respondToAppend(state, message.from, { success: true, matchIndex: result.lastNewIndex });
}

/** Leader side of an append acknowledgement or rejection. */
export function handleAppendEntriesResponse(
  state: CoreState,
  message: AppendEntriesResponse,
): void {
  const progress = state.progress.get(message.from);
  if (progress === undefined) return;
  progress.recentActive = true;
  if (!message.success) {
    // The hint 0/0 is meaningful too: nothing in the follower's log can match ours (an empty log,
    // say), so the next probe starts at the beginning instead of one index lower per round trip.
    const hintNext = state.log.findConflictByTerm(message.hintIndex, message.hintTerm).index + 1;
    if (progress.maybeDecrease(message.rejectedIndex, hintNext)) sendAppend(state, message.from);
    return;
  }
  const wasPaused = progress.paused;
  if (!progress.maybeUpdate(message.matchIndex)) {
    if (wasPaused && !progress.paused) sendAppend(state, message.from, false);
    return;
  }
  if (progress.state === 'probe') progress.becomeReplicate();
  else if (progress.state === 'replicate') progress.inflights.freeTo(message.matchIndex);
  else if (progress.match >= state.log.snapshotIndex) {
    // The follower installed a snapshot (or already held its effect): the log can take over.
    progress.becomeReplicate();
  }
  if (!maybeCommit(state)) {
    // A follower that was paused may have missed a commit index meanwhile, so it gets a message
    // even with no new entries.
    fillWindow(state, message.from, wasPaused && progress.sentCommit < state.log.committed);
  }
  if (message.from === state.transferee && progress.match === state.log.lastIndex) {
    state.send({ type: 'timeout-now', term: state.term, from: state.id, to: message.from });
  }
}

/** Follower side of a heartbeat: the leader is alive; adopt its (safe) commit index. */
export function handleHeartbeat(state: CoreState, message: Heartbeat): void {
  if (state.log.commitTo(Math.min(message.commit, state.log.lastIndex))) {
    state.trace({ kind: 'commit', id: state.id, commit: state.log.committed });
  }
  const response: HeartbeatResponse = {
    type: 'heartbeat-response',
    term: state.term,
    from: state.id,
    to: message.from,
    context: message.context,
  };
  state.send(response);
}

/** Leader side: the follower is alive; resume a paused probe and catch it up if it lags. */
export function handleHeartbeatResponse(state: CoreState, message: HeartbeatResponse): void {
  const progress = state.progress.get(message.from);
  if (progress === undefined) return;
  progress.recentActive = true;
  progress.probeSent = false;
  // A round number from the future would confirm reads no quorum has seen: trust only rounds sent.
  if (message.context > progress.acknowledgedRound && message.context <= state.heartbeatRound) {
    progress.acknowledgedRound = message.context;
    confirmReads(state);
  }
  // A lost append would otherwise hold its window slot forever; free one so replication resumes.
  if (progress.state === 'replicate' && progress.inflights.full) progress.inflights.freeFirst();
  if (progress.match < state.log.lastIndex) sendAppend(state, message.from);
}
