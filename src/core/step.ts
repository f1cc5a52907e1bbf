import { isMember, membersOf } from './configuration.js';
import type { RaftMessage, RequestVote } from './messages.js';
import { becomeFollower, campaign, tallyVotes } from './roles.js';
import {
  handleAppendEntries,
  handleAppendEntriesResponse,
  handleHeartbeat,
  handleHeartbeatResponse,
} from './replication.js';
import { requestRead } from './read-index.js';
import { handleInstallSnapshot, handleInstallSnapshotResponse } from './snapshot.js';
import type { CoreState } from './state.js';

/** Messages only a leader sends: receiving one at our term or above means that leader is alive. */
function fromLeader(message: RaftMessage): boolean {
  return (
    message.type === 'append-entries' ||
    message.type === 'heartbeat' ||
    message.type === 'install-snapshot' ||
    message.type === 'timeout-now'
  );
}

/**
 * Leader stickiness (thesis §4.2.3): while this server heard from a live leader within the election
 * timeout, it ignores campaigns — unless the leader itself asked for one (a transfer). Tied to
 * CheckQuorum, as in etcd: only with CheckQuorum does a leader that lost its quorum step down, which
 * keeps stickiness from blocking a needed election.
 */
function inLeaderLease(state: CoreState, message: RequestVote): boolean {
  return (
    state.settings.checkQuorum &&
    !message.transfer &&
    (state.leaderId !== null || state.quietTicksLeft > 0) &&
    state.electionElapsed < state.options.electionTicks
  );
}

/**
 * Whether a vote request deserves an answer. A server removed while it was down never learned it;
 * once its removal is committed here, its campaigns must not raise our term (thesis §4.2.3). But a
 * server votes for a candidate outside its latest configuration (thesis §4.1): our own latest one
 * may be an uncommitted change a new leader will replace, or we may lag behind a change that added
 * the candidate. So a request from a server in neither our latest nor our committed configuration
 * is answered only if it could win our vote, its log being as up to date as ours; a server whose
 * removal we hold committed never has such a log, since it lacks the removal entry. A server that
 * knows no configuration at all lost its storage and may already have voted in any term: it
 * answers nobody.
 */
function mayCampaign(state: CoreState, message: RequestVote): boolean {
  if (isMember(state.configuration, message.from)) return true;
  if (isMember(state.committedConfiguration.value, message.from)) return true;
  return (
    membersOf(state.configuration).length > 0 &&
    state.log.isUpToDate(message.lastLogIndex, message.lastLogTerm)
  );
}

/** Applies §5.1's term rules, then hands the message to the handler for its kind. */
export function step(state: CoreState, message: RaftMessage): void {
  if (message.type === 'request-vote' && !mayCampaign(state, message)) {
    state.trace({ kind: 'ignored', id: state.id, message, reason: 'not a member' });
    return;
  }
  if (message.term > state.term) {
    if (message.type === 'request-vote' && inLeaderLease(state, message)) {
      state.trace({ kind: 'ignored', id: state.id, message, reason: 'leader lease' });
      return;
    }
    const trialMessage =
      (message.type === 'request-vote' && message.preVote) ||
      (message.type === 'request-vote-response' && message.preVote && message.granted);
    // A pre-vote request or grant proposes a term, it does not start it.
    if (!trialMessage) {
      becomeFollower(state, message.term, fromLeader(message) ? message.from : null);
    }
  } else if (message.term < state.term) {
    handleStaleTerm(state, message);
    return;
  }
  dispatch(state, message);
}

function handleStaleTerm(state: CoreState, message: RaftMessage): void {
  if (message.type === 'request-vote') {
    // Answer so a stale candidate learns the term; a delayed request never wins this term's vote.
    state.send({
      type: 'request-vote-response',
      term: state.term,
      from: state.id,
      to: message.from,
      preVote: message.preVote,
      granted: false,
    });
  } else if (
    (message.type === 'append-entries' ||
      message.type === 'heartbeat' ||
      message.type === 'install-snapshot') &&
    (state.settings.checkQuorum || state.settings.preVote || !state.promotable)
  ) {
    // A leader from an older term must learn it was deposed. Without PreVote and CheckQuorum our
    // own campaign would tell it, but only a server that may campaign has one: a learner whose
    // term a candidate raised would otherwise ignore its leader, and be ignored, for good. With
    // PreVote or CheckQuorum nobody else would tell it, since campaigns no longer raise its term.
    state.send({
      type: 'append-entries-response',
      term: state.term,
      from: state.id,
      to: message.from,
      success: false,
      rejectedIndex: 0,
      hintIndex: 0,
      hintTerm: 0,
    });
  } else {
    state.trace({ kind: 'ignored', id: state.id, message, reason: 'stale term' });
  }
}

function dispatch(state: CoreState, message: RaftMessage): void {
  switch (message.type) {
    case 'request-vote':
      handleRequestVote(state, message);
      return;
    case 'request-vote-response':
      handleVoteResponse(state, message.from, message.granted, message.preVote);
      return;
    case 'append-entries':
    case 'heartbeat':
    case 'install-snapshot':
    case 'timeout-now':
      acknowledgeLeader(state, message.from);
      if (message.type === 'append-entries') handleAppendEntries(state, message);
      else if (message.type === 'heartbeat') handleHeartbeat(state, message);
      else if (message.type === 'install-snapshot') handleInstallSnapshot(state, message);
      else campaign(state, { transfer: true });
      return;
    case 'append-entries-response':
      if (state.role === 'leader') handleAppendEntriesResponse(state, message);
      return;
    case 'heartbeat-response':
      if (state.role === 'leader') handleHeartbeatResponse(state, message);
      return;
    case 'read-index':
      requestRead(state, message.from, message.context);
      return;
    case 'read-index-response':
      state.readStates.push(
        message.index < 0
          ? { context: message.context, confirmed: false }
          : { context: message.context, confirmed: true, index: message.index },
      );
      return;
    case 'install-snapshot-response':
      if (state.role === 'leader') handleInstallSnapshotResponse(state, message);
      return;
  }
}

/** A message from the leader of our term: follow it and restart the election timer. */
function acknowledgeLeader(state: CoreState, leaderId: string): void {
  if (state.role !== 'follower' || state.leaderId !== leaderId) {
    becomeFollower(state, state.term, leaderId);
  }
  state.electionElapsed = 0;
}

function handleRequestVote(state: CoreState, message: RequestVote): void {
  const alreadyVotedFor = state.vote === message.from;
  // A pre-vote is granted on log and liveness alone: it costs us no vote in any term.
  const free =
    alreadyVotedFor ||
    (state.vote === null && state.leaderId === null) ||
    (message.preVote && message.term > state.term);
  const granted =
    free &&
    state.log.isUpToDate(message.lastLogIndex, message.lastLogTerm) &&
    !(message.preVote && inLeaderLease(state, message));
  if (granted && !message.preVote) {
    state.vote = message.from;
    state.electionElapsed = 0;
  }
  state.send({
    type: 'request-vote-response',
    // A granted pre-vote answers in the proposed term so the candidate can match it to its round.
    term: granted && message.preVote ? message.term : state.term,
    from: state.id,
    to: message.from,
    preVote: message.preVote,
    granted,
  });
}

function handleVoteResponse(
  state: CoreState,
  from: string,
  granted: boolean,
  preVote: boolean,
): void {
  const expecting =
    (state.role === 'pre-candidate' && preVote) || (state.role === 'candidate' && !preVote);
  if (!expecting) return;
  state.votes.set(from, granted);
  tallyVotes(state);
}
