import { RaftError, type NodeId, type RaftErrorDetailsOf } from '../core/index.js';

/**
 * Every error the runtime builds for its callers, in one place, so the same situation always
 * carries the same code and details whichever method reports it.
 */

/** Why a request stopped waiting before it had an answer. */
export type CancelReason = 'timeout' | 'aborted';

/** Wraps anything thrown into a `RaftError`; what is not one already is a broken invariant. */
export function toRaftError(error: unknown): RaftError {
  if (error instanceof RaftError) return error;
  return new RaftError('INVARIANT', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/** Runs a storage operation; a failure that is not already typed becomes `STORAGE_FAILED`. */
export async function wrapStorage<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storageFailure(error);
  }
}

/** What a storage call's failure is for the node: `STORAGE_FAILED`, unless already typed. */
export function storageFailure(error: unknown): RaftError {
  if (error instanceof RaftError) return error;
  return new RaftError('STORAGE_FAILED', 'storage operation failed', { cause: error });
}

/** The node is not running (or stopped while the request waited); nothing of it was applied. */
export function stoppedError(message: string): RaftError {
  return new RaftError('STOPPED', message, { details: { outcome: 'not-applied' } });
}

/** The admission limit refused a request; retry once the node has caught up. */
export function busyError(pending: number): RaftError {
  return new RaftError('BUSY', `too many pending requests (${pending})`, {
    details: { outcome: 'not-applied' },
  });
}

/** This server cannot serve a leader-only request; names the leader (and its address) if known. */
export function notLeaderError(options: {
  readonly id: NodeId;
  readonly leaderId: NodeId | null;
  readonly leaderAddress: string | null;
}): RaftError {
  const { id, leaderId, leaderAddress } = options;
  if (leaderId === null) {
    return new RaftError('NO_LEADER', 'no leader is known; an election is under way', {
      details: { leaderId: null, outcome: 'not-applied' },
    });
  }
  return new RaftError('NOT_LEADER', `${id} is not the leader; ${leaderId} is`, {
    details: { leaderId, leaderAddress, outcome: 'not-applied' },
  });
}

/** A waiter's index now holds another term's entry: a new leader replaced the command. */
export function replacedError(index: number): RaftError {
  return new RaftError(
    'PROPOSAL_DROPPED',
    `entry ${index} was replaced by a new leader; the command was not applied`,
    { details: { outcome: 'not-applied' } },
  );
}

/** The error for a request cancelled before it reached the log: it will certainly not apply. */
export function cancelledBeforeLog(reason: CancelReason): RaftError {
  return cancelledError(reason, 'request', {
    context: 'before it entered the log',
    details: { outcome: 'not-applied' },
  });
}

/** The error for a request cancelled after it reached the log: it may still commit and apply. */
export function cancelledInLog(reason: CancelReason | 'stopped' | 'leader-changed'): RaftError {
  const what = {
    stopped: 'interrupted by stop',
    timeout: 'timed out',
    aborted: 'aborted',
    'leader-changed': 'lost its leader',
  }[reason];
  return new RaftError(
    'OUTCOME_UNKNOWN',
    `request ${what} after it entered the log; it may still be applied`,
    { details: { reason, outcome: 'unknown' } },
  );
}

/**
 * The error for a wait that its deadline or its caller's signal ended: `TIMEOUT` or `ABORTED`,
 * worded as "<subject> timed out <context>". Only a wait that may have left something in the log
 * uses `cancelledInLog` instead.
 */
export function cancelledError(
  reason: CancelReason,
  subject: string,
  options: {
    readonly context?: string;
    readonly details?: RaftErrorDetailsOf<'TIMEOUT' | 'ABORTED'>;
  } = {},
): RaftError {
  const context = options.context === undefined ? '' : ` ${options.context}`;
  const details = options.details ?? { outcome: 'not-applied' };
  return reason === 'timeout'
    ? new RaftError('TIMEOUT', `${subject} timed out${context}`, { details })
    : new RaftError('ABORTED', `${subject} aborted${context}`, { details });
}
