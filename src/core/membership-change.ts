import { isJoint, isVoter, leaveJoint } from './configuration.js';
import { appendAsLeader, becomeFollower } from './roles.js';
import type { CoreState } from './state.js';
import type { NodeId } from './types.js';

/**
 * The leader's follow-up to a committed configuration, checked after every input:
 *
 * 1. progress records of members that left are dropped once their removal is committed;
 * 2. a committed joint configuration is left at once by appending its incoming half (the
 *    automatic leave step), so a change started by a leader that crashed is still finished by
 *    the next one;
 * 3. a leader that is no longer a voter in the committed configuration hands over to its most
 *    up-to-date voter, if one has the whole log, and steps down (thesis §4.2.2).
 *
 * Returns whether it acted.
 */
export function maybeFinishChange(state: CoreState): boolean {
  if (state.role !== 'leader') return false;
  const committed = state.committedConfiguration;
  if (committed.index !== state.progressConfigurationIndex) {
    state.progressConfigurationIndex = committed.index;
    state.syncProgress();
  }
  if (state.configurationIndex > state.log.committed) return false;
  const configuration = state.configuration;
  if (isJoint(configuration)) {
    if (state.transferee !== null) return false;
    appendAsLeader(state, [{ kind: 'configuration', configuration: leaveJoint(configuration) }]);
    state.trace({ kind: 'leave-joint', id: state.id, index: state.log.lastIndex });
    return true;
  }
  if (isVoter(configuration, state.id)) return false;
  const successor = mostUpToDateVoter(state);
  if (successor !== null) {
    state.send({ type: 'timeout-now', term: state.term, from: state.id, to: successor });
  }
  state.trace({ kind: 'removed-leader', id: state.id, successor });
  becomeFollower(state, state.term, null);
  return true;
}

/** A voter that holds the leader's whole log and answered recently, or null if none does. */
function mostUpToDateVoter(state: CoreState): NodeId | null {
  for (const id of state.configuration.voters) {
    const progress = state.progress.get(id);
    if (progress === undefined || id === state.id) continue;
    if (progress.recentActive && progress.match === state.log.lastIndex) return id;
  }
  return null;
}
