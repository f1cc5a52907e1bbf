import type { Heartbeat } from './messages.js';
import { jointIndex } from './quorum.js';
import type { CoreState } from './state.js';

/**
 * Heartbeat rounds and the leader lease (Raft thesis §6.4.1).
 *
 * Every heartbeat broadcast is a numbered round; followers echo the number back, and the leader
 * remembers the highest round each follower acknowledged. A round that a quorum acknowledged proves
 * that, when it was sent, no other leader could have been elected yet: every member of that quorum
 * still followed us when the round reached it. Two things rest on that proof:
 *
 * - ReadIndex: a read that arrived before a quorum-acknowledged round may be served at the commit
 *   index it arrived with.
 * - The lease: a member that heard from the leader refuses to vote for anyone else for
 *   `electionTicks` ticks of its own clock (leader stickiness, with CheckQuorum). So no rival can
 *   win before that silence ends, and the leader may serve reads without a round until then.
 *
 * The silence a follower keeps begins when the round reached it, which is no earlier than the tick
 * at which the leader sent it. It lasts `electionTicks` of the follower's ticks, but its first tick
 * may come at once after the round arrived, so only `electionTicks - 1` whole tick lengths are
 * certain. And the follower's clock may run faster than the leader's by up to
 * `clockDriftBoundTicks` over that span. The lease therefore covers ticks
 * `[sent, sent + electionTicks - 1 - clockDriftBoundTicks)` of the leader's clock.
 */

/** Starts a heartbeat round at the current tick; returns its number for the heartbeats. */
export function startHeartbeatRound(state: CoreState): number {
  const round = ++state.heartbeatRound;
  const latest = state.roundStarts.at(-1);
  // One record per tick is enough: rounds of the same tick share its start time.
  if (latest === undefined || latest.tick !== state.ticks) {
    state.roundStarts.push({ firstRound: round, tick: state.ticks });
  }
  forgetExpiredRounds(state);
  return round;
}

/**
 * Starts a heartbeat round: keeps followers from campaigning, and once a quorum answers, confirms
 * leadership for reads and renews the lease (see lease.ts). Returns the round's number.
 */
export function broadcastHeartbeat(state: CoreState): number {
  const round = startHeartbeatRound(state);
  for (const [id, progress] of state.progress) {
    if (id === state.id) continue;
    const message: Heartbeat = {
      type: 'heartbeat',
      term: state.term,
      from: state.id,
      to: id,
      // Never claim more than the follower is known to hold: it adopts this without a log check.
      commit: Math.min(progress.match, state.log.committed),
      context: round,
    };
    state.send(message);
  }
  return round;
}

/** The highest round that a quorum of voters (this leader included) has acknowledged. */
export function quorumAcknowledgedRound(state: CoreState): number {
  const round = jointIndex(state.voterSets, (id) =>
    id === state.id ? state.heartbeatRound : (state.progress.get(id)?.acknowledgedRound ?? 0),
  );
  // No voters at all (a leader removed from its configuration): nothing confirms anything.
  return round === Infinity ? 0 : round;
}

/** The number of ticks a lease lasts from the tick its round was sent. */
export function leaseTicks(state: CoreState): number {
  return state.options.electionTicks - 1 - state.options.clockDriftBoundTicks;
}

/**
 * Whether the leader's lease holds now: a quorum acknowledged a round sent recently enough, and
 * nothing since gave other servers a reason to elect someone else without waiting.
 */
export function leaseHolds(state: CoreState): boolean {
  if (state.role !== 'leader' || !state.settings.checkQuorum) return false;
  // A transfer tells the target to campaign at once, and its votes override stickiness.
  if (state.transferee !== null || state.leaseForfeited) return false;
  const round = quorumAcknowledgedRound(state);
  if (round === 0) return false;
  const sentAt = tickOfRound(state, round);
  return sentAt !== null && state.ticks < sentAt + leaseTicks(state);
}

function tickOfRound(state: CoreState, round: number): number | null {
  for (let position = state.roundStarts.length - 1; position >= 0; position--) {
    const start = state.roundStarts[position]!;
    if (start.firstRound <= round) return start.tick;
  }
  return null;
}

/** Keeps only the round records that could still start a lease; at most one per tick. */
function forgetExpiredRounds(state: CoreState): void {
  const oldestUseful = state.ticks - leaseTicks(state);
  let expired = 0;
  // The newest record is kept even when expired: it dates every later round of its tick.
  while (
    expired < state.roundStarts.length - 1 &&
    state.roundStarts[expired + 1]!.tick <= oldestUseful
  ) {
    expired++;
  }
  if (expired > 0) state.roundStarts.splice(0, expired);
}
