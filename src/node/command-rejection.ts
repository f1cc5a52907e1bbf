import { RaftError, type Entry } from '../core/index.js';

/**
 * A state machine's deterministic refusal of one command: the value `apply` returns, through
 * {@link rejectCommand}, when the command is invalid for the state it meets (a balance too small, a
 * stale version, a malformed request). The entry stays in the log and counts as applied; every
 * server reaches the same refusal from the same state and changes nothing, so every server keeps
 * running. The proposer's promise rejects with `COMMAND_REJECTED` carrying `reason` and `message`.
 *
 * Throwing from `apply` means something else: the state machine could not apply the command and
 * its state may now differ from the other servers', so the node stops (`APPLY_FAILED`).
 */
export class CommandRejection {
  /** The application's stable code for the refusal, for callers to match on. */
  readonly reason: string;
  /** Words for a person. */
  readonly message: string;

  constructor(reason: string, message: string = reason) {
    if (typeof reason !== 'string' || reason.length === 0) {
      throw new RaftError('INVALID_CONFIG', 'a command rejection needs a non-empty reason code');
    }
    if (typeof message !== 'string') {
      throw new RaftError('INVALID_CONFIG', 'a command rejection message must be a string');
    }
    this.reason = reason;
    this.message = message;
  }
}

/**
 * Refuses the command being applied: `return rejectCommand('INSUFFICIENT_FUNDS', 'balance is 5')`
 * from `apply`. Only a decision that depends on the command and the replicated state alone is
 * deterministic; see {@link CommandRejection}.
 */
export function rejectCommand(reason: string, message?: string): CommandRejection {
  return new CommandRejection(reason, message);
}

/** The proposer's error for a command its state machine rejected at `entry`. */
export function rejectedError(rejection: CommandRejection, entry: Entry): RaftError {
  return new RaftError('COMMAND_REJECTED', rejection.message, {
    details: {
      reason: rejection.reason,
      index: entry.index,
      term: entry.term,
      outcome: 'not-applied',
    },
  });
}
