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

/** Whether the configuration is joint (old and new voter sets must both agree). */
export function isJoint(configuration: Configuration): boolean {
  return configuration.outgoingVoters.length > 0;
}

/** Rejects a configuration that no cluster could run with. */
export function validateConfiguration(configuration: Configuration): void {
  const fail = (message: string): never => {
    throw new RaftError('INVALID_CONFIG', `invalid configuration: ${message}`, {
      details: { configuration },
    });
  };
  for (const list of [configuration.voters, configuration.outgoingVoters, configuration.learners]) {
    if (new Set(list).size !== list.length) fail('a member is listed twice');
    for (const id of list) if (typeof id !== 'string' || id.length === 0) fail('empty node id');
  }
  for (const learner of configuration.learners) {
    if (isVoter(configuration, learner)) fail(`${learner} is both a voter and a learner`);
  }
}
