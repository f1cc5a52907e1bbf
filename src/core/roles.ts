import { invariant } from './errors.js';
import { jointVote } from './quorum.js';
import { failPendingReads } from './read-index.js';
import { broadcastAppend } from './replication.js';
import type { CoreState } from './state.js';
import {
  entryPayload,
  type ClusterSettings,
  type Configuration,
  type Entry,
  type NodeId,
  type SessionEntryDraft,
} from './types.js';

function resetTerm(state: CoreState, term: number): void {
  failPendingReads(state);
  if (state.term !== term) {
    state.term = term;
    state.vote = null;
  }
  state.leaderId = null;
  state.electionElapsed = 0;
  state.heartbeatElapsed = 0;
  state.votes.clear();
  state.transferee = null;
  state.leaseForfeited = false;
  state.quietTicksLeft = 0;
  state.progress.clear();
  state.uncommittedBytes = 0;
  state.resetRandomizedElectionTimeout();
}

function traceRole(state: CoreState): void {
  state.trace({ kind: 'role', id: state.id, role: state.role, term: state.term });
}

/** Becomes a follower in `term`, of `leaderId` when known. The vote of an unchanged term stays. */
export function becomeFollower(state: CoreState, term: number, leaderId: NodeId | null): void {
  invariant(term >= state.term, 'terms never go backwards');
  const changed = state.role !== 'follower' || state.term !== term;
  resetTerm(state, term);
  state.role = 'follower';
  state.leaderId = leaderId;
  if (changed) traceRole(state);
}

/**
 * Starts the PreVote trial round (thesis §9.6): asks whether the others would vote for this server
 * in the next term, without raising its own term or casting a vote, so a server that was cut off
 * cannot disrupt a healthy cluster when it returns.
 */
export function becomePreCandidate(state: CoreState): void {
  invariant(state.role !== 'leader', 'a leader does not campaign');
  // Like etcd: the term and vote stay, only the role and the tally change.
  state.role = 'pre-candidate';
  state.votes.clear();
  state.leaderId = null;
  state.electionElapsed = 0;
  state.resetRandomizedElectionTimeout();
  traceRole(state);
}

/** Starts an election: a new term, a vote for itself (§5.2). */
export function becomeCandidate(state: CoreState): void {
  invariant(state.role !== 'leader', 'a leader does not campaign');
  resetTerm(state, state.term + 1);
  state.vote = state.id;
  state.role = 'candidate';
  traceRole(state);
}

/**
 * Takes office: every member's progress restarts in probe, and an empty entry of the new term is
 * appended, since only entries of the current term commit by counting replicas (§5.4.2).
 */
export function becomeLeader(state: CoreState): void {
  invariant(state.role === 'candidate', 'only a candidate becomes leader');
  resetTerm(state, state.term);
  state.role = 'leader';
  state.leaderId = state.id;
  state.syncProgress();
  traceRole(state);
  appendAsLeader(state, [{ kind: 'noop' }]);
}

/** The parts of an entry a proposer supplies; the leader assigns index and term. */
export type EntryDraft =
  | { readonly kind: 'command'; readonly data: Uint8Array }
  | SessionEntryDraft
  | { readonly kind: 'noop' }
  | { readonly kind: 'configuration'; readonly configuration: Configuration }
  | { readonly kind: 'settings'; readonly settings: ClusterSettings };

/**
 * The entry a draft becomes at `index` in `term`; a bare command is a command entry's draft, so a
 * proposal needs no draft object of its own. Built field by field rather than by spreading the
 * draft: every entry of a kind then has the same shape, and a spread per entry was the largest
 * single cost of a leader's append in profiles.
 */
function entryFromDraft(draft: EntryDraft | Uint8Array, index: number, term: number): Entry {
  if (draft instanceof Uint8Array) return { kind: 'command', index, term, data: draft };
  switch (draft.kind) {
    case 'command':
    case 'session':
      return { kind: draft.kind, index, term, data: draft.data };
    case 'noop':
      return { kind: 'noop', index, term };
    case 'configuration':
      return { kind: 'configuration', index, term, configuration: draft.configuration };
    case 'settings':
      return { kind: 'settings', index, term, settings: draft.settings };
  }
}

/** Appends drafts to the leader's log with the next indexes and the current term, then replicates. */
export function appendAsLeader(
  state: CoreState,
  drafts: readonly (EntryDraft | Uint8Array)[],
): void {
  invariant(state.role === 'leader', 'only the leader appends proposals');
  let index = state.log.lastIndex;
  const entries = drafts.map((draft) => entryFromDraft(draft, ++index, state.term));
  state.log.append(entries);
  for (const entry of entries) {
    state.recordEntry(entry);
    state.uncommittedBytes += entryPayload(entry)?.byteLength ?? 0;
  }
  broadcastAppend(state);
}

/**
 * Starts a campaign: a PreVote round first when the cluster uses PreVote, unless this campaign is a
 * leadership transfer the leader asked for (the leader is known alive, so no trial is needed).
 */
export function campaign(state: CoreState, options: { transfer: boolean; trial?: boolean }): void {
  if (!state.promotable || state.role === 'leader') return;
  const preVote = options.trial ?? (state.settings.preVote && !options.transfer);
  if (preVote) becomePreCandidate(state);
  else becomeCandidate(state);
  const term = preVote ? state.term + 1 : state.term;
  // Count our own vote first: a single-voter cluster wins without sending anything.
  state.votes.set(state.id, true);
  if (tallyVotes(state)) return;
  for (const id of new Set([
    ...state.configuration.voters,
    ...state.configuration.outgoingVoters,
  ])) {
    if (id === state.id) continue;
    state.send({
      type: 'request-vote',
      term,
      from: state.id,
      to: id,
      lastLogIndex: state.log.lastIndex,
      lastLogTerm: state.log.lastTerm,
      preVote,
      transfer: options.transfer,
    });
  }
}

/** Acts on the votes so far; returns whether the campaign ended. */
export function tallyVotes(state: CoreState): boolean {
  const outcome = jointVote(state.voterSets, (id) => state.votes.get(id));
  if (outcome === 'pending') return false;
  if (outcome === 'lost') {
    becomeFollower(state, state.term, null);
    return true;
  }
  if (state.role === 'pre-candidate') {
    campaign(state, { transfer: false, trial: false });
    return true;
  }
  becomeLeader(state);
  return true;
}
