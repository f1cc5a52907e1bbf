import { RaftError } from 'raftkit';
import { errorReply } from '../resp/resp-writer.js';
import type { ServerContext } from './server-context.js';

/**
 * `-NOTLEADER <id> <client address>`: where a command that only the leader runs should go. Without
 * a known leader (an election is under way) both are left out.
 */
export function notLeaderReply(context: ServerContext): Buffer {
  const leaderId = context.node.leaderId ?? '';
  const leader = context.layout.members.find((member) => member.id === leaderId);
  return errorReply(`NOTLEADER ${leaderId} ${leader?.client ?? ''}`.trimEnd());
}

/** A RaftError as a RESP error whose first word is its stable code. */
export function raftErrorReply(error: unknown): Buffer {
  if (error instanceof RaftError) return errorReply(`${error.code} ${error.message}`);
  return errorReply(`ERR ${error instanceof Error ? error.message : String(error)}`);
}

/** Runs an action only the leader may run; `NOT_LEADER` becomes {@link notLeaderReply}. */
export async function onLeader(
  context: ServerContext,
  action: () => Promise<Buffer>,
): Promise<Buffer> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof RaftError && error.code === 'NOT_LEADER') return notLeaderReply(context);
    return raftErrorReply(error);
  }
}
