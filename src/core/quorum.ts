// Quorum arithmetic. A leaf module: plain ids and numbers in, answers out, no other core imports,
// so it can be checked exhaustively against a naive version.

/** The outcome of counting votes. */
export type VoteOutcome = 'won' | 'lost' | 'pending';

/** How many of `size` voters make a majority: more than half, never exactly half. */
export function majoritySize(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * The highest index that a majority of `voters` hold, given each voter's acknowledged index. An
 * empty voter set places no constraint (so that a joint configuration with no outgoing half reduces
 * to its incoming half) and yields `Infinity`.
 */
export function majorityIndex(voters: readonly string[], indexOf: (id: string) => number): number {
  if (voters.length === 0) return Infinity;
  const indexes = voters.map(indexOf).sort((a, b) => b - a);
  return indexes[majoritySize(voters.length) - 1]!;
}

/** Counts votes among `voters`; ids outside the set are ignored. */
export function majorityVote(
  voters: readonly string[],
  voteOf: (id: string) => boolean | undefined,
): VoteOutcome {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = voteOf(id);
    if (vote === true) granted++;
    else if (vote === undefined) missing++;
  }
  const needed = majoritySize(voters.length);
  if (granted >= needed) return 'won';
  if (granted + missing >= needed) return 'pending';
  return 'lost';
}

/** A voter set and, during a joint change, the outgoing voter set that must agree as well. */
export interface VoterSets {
  readonly voters: readonly string[];
  readonly outgoingVoters: readonly string[];
}

/** The highest index both halves of a (possibly joint) configuration have committed. */
export function jointIndex(sets: VoterSets, indexOf: (id: string) => number): number {
  return Math.min(majorityIndex(sets.voters, indexOf), majorityIndex(sets.outgoingVoters, indexOf));
}

/** A joint vote is won only when both halves win, and lost as soon as either half loses. */
export function jointVote(
  sets: VoterSets,
  voteOf: (id: string) => boolean | undefined,
): VoteOutcome {
  const incoming = majorityVote(sets.voters, voteOf);
  const outgoing = majorityVote(sets.outgoingVoters, voteOf);
  if (incoming === 'lost' || outgoing === 'lost') return 'lost';
  if (incoming === 'won' && outgoing === 'won') return 'won';
  return 'pending';
}

/** Whether the members for which `isActive` holds form a quorum of both halves. */
export function jointActive(sets: VoterSets, isActive: (id: string) => boolean): boolean {
  return jointVote(sets, (id) => (isActive(id) ? true : false)) === 'won';
}
