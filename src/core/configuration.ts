import { RaftError } from './errors.js';
import type { Configuration, NodeId } from './types.js';

/** A server's role in the protocol. `pre-candidate` is the PreVote trial round. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Every member of a configuration (voters of both halves and learners), without repeats. */
export function membersOf(configuration: Configuration): NodeId[] {
  return [
    ...new Set([
      ...configuration.voters,
      ...configuration.outgoingVoters,
      ...configuration.learners,
    ]),
  ];
}

/** Whether `id` votes in either half of the configuration. */
export function isVoter(configuration: Configuration, id: NodeId): boolean {
  return configuration.voters.includes(id) || configuration.outgoingVoters.includes(id);
}

/** Whether `id` takes part in the configuration at all, as a voter or a learner. */
export function isMember(configuration: Configuration, id: NodeId): boolean {
  return isVoter(configuration, id) || configuration.learners.includes(id);
}

/** Whether the configuration is joint (old and new voter sets must both agree). */
export function isJoint(configuration: Configuration): boolean {
  return configuration.outgoingVoters.length > 0;
}

/**
 * Rejects a configuration that no cluster could run with. A learner may also be an outgoing voter:
 * during a joint change that demotes it, it still votes with the old half and stays on as a
 * learner once the joint phase ends.
 */
export function validateConfiguration(configuration: Configuration): void {
  const fail = (message: string): never => {
    throw new RaftError('INVALID_CONFIG', `invalid configuration: ${message}`, {
      details: { option: 'configuration', value: configuration },
    });
  };
  for (const list of [configuration.voters, configuration.outgoingVoters, configuration.learners]) {
    if (new Set(list).size !== list.length) fail('a member is listed twice');
    for (const id of list) if (typeof id !== 'string' || id.length === 0) fail('empty node id');
  }
  for (const learner of configuration.learners) {
    if (configuration.voters.includes(learner)) fail(`${learner} is both a voter and a learner`);
  }
}

/** The members a change should end with; anything left out is removed from the cluster. */
export interface MembershipTarget {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Addresses of new members; members that stay keep theirs unless given here. */
  readonly addresses?: Readonly<Record<NodeId, string>>;
}

function sameSet(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** How many servers gain or lose a vote between two voter sets. */
function votersChanged(from: readonly NodeId[], to: readonly NodeId[]): number {
  return (
    to.filter((id) => !from.includes(id)).length + from.filter((id) => !to.includes(id)).length
  );
}

function unsafe(
  message: string,
  details: { readonly current: Configuration; readonly next: Configuration },
): never {
  throw new RaftError('UNSAFE_CHANGE', message, {
    details: { ...details, outcome: 'not-applied' },
  });
}

/**
 * Refuses a transition that could let two disjoint majorities exist at once (thesis §4.1-§4.3).
 * Safe steps are exactly three: from a plain configuration, change at most one voter; from a plain
 * configuration, enter a joint one whose outgoing half is the current voter set; from a joint
 * configuration, leave to its incoming half. Learners may change freely: they never vote.
 */
export function checkTransition(current: Configuration, next: Configuration): void {
  validateConfiguration(next);
  const details = { current, next };
  if (next.voters.length === 0) unsafe('a configuration needs at least one voter', details);
  if (isJoint(current)) {
    if (isJoint(next) || !sameSet(next.voters, current.voters)) {
      unsafe('a joint configuration can only be left to its incoming voter set', details);
    }
    return;
  }
  if (isJoint(next)) {
    if (!sameSet(next.outgoingVoters, current.voters)) {
      unsafe('a joint configuration must start from the voters now in force', details);
    }
    return;
  }
  const added = next.voters.filter((id) => !current.voters.includes(id)).length;
  const removed = current.voters.filter((id) => !next.voters.includes(id)).length;
  if (added + removed > 1) {
    unsafe(
      `${added} voters added and ${removed} removed in one step; more than one change needs a joint configuration`,
      details,
    );
  }
}

/**
 * The configuration entry that moves `current` toward `target`: the target itself when at most
 * one voter changes, otherwise the joint configuration that the leader leaves automatically once
 * it commits. Voters demoted to learners keep voting with the outgoing half meanwhile.
 */
export function planChange(current: Configuration, target: MembershipTarget): Configuration {
  if (isJoint(current)) {
    throw new RaftError('CHANGE_IN_PROGRESS', 'a joint configuration change is still under way', {
      details: { outcome: 'not-applied' },
    });
  }
  const voters = [...new Set(target.voters)];
  const learners = [...new Set(target.learners ?? [])];
  const addresses = { ...current.addresses, ...target.addresses };
  const simple = votersChanged(current.voters, voters) <= 1;
  const next: Configuration = {
    voters,
    outgoingVoters: simple ? [] : [...current.voters],
    learners,
    addresses: {},
  };
  const withAddresses = { ...next, addresses: addressesOf(next, addresses) };
  checkTransition(current, withAddresses);
  return withAddresses;
}

/** The configuration a joint one ends in: the incoming voters and the learners. */
export function leaveJoint(configuration: Configuration): Configuration {
  const next: Configuration = {
    voters: [...configuration.voters],
    outgoingVoters: [],
    learners: [...configuration.learners],
    addresses: {},
  };
  return { ...next, addresses: addressesOf(next, configuration.addresses) };
}

/** Keeps only the addresses of the configuration's own members. */
function addressesOf(
  configuration: Configuration,
  addresses: Readonly<Record<NodeId, string>>,
): Record<NodeId, string> {
  const kept: Record<NodeId, string> = {};
  for (const id of membersOf(configuration)) {
    const address = addresses[id];
    if (address !== undefined) kept[id] = address;
  }
  return kept;
}
