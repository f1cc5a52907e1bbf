import type { Configuration } from 'raftkit';
import { bulkReply, errorReply } from '../resp/resp-writer.js';
import { onLeader } from './leader-replies.js';
import type { ServerContext } from './server-context.js';

/** The membership subcommands of `RAFT`, with their usage. */
const usage = {
  ADDLEARNER: 'RAFT ADDLEARNER <id> <raft host:port>',
  ADDVOTER: 'RAFT ADDVOTER <id> <raft host:port>',
  PROMOTE: 'RAFT PROMOTE <id>',
  REMOVE: 'RAFT REMOVE <id>',
} as const;

/** A membership subcommand of `RAFT`. */
export type MembershipSubcommand = keyof typeof usage;

/** Whether `subcommand` is one of the membership subcommands. */
export function isMembershipSubcommand(
  subcommand: string | undefined,
): subcommand is MembershipSubcommand {
  return subcommand !== undefined && Object.hasOwn(usage, subcommand);
}

/** The usage of every membership subcommand, for the `RAFT` error listing them. */
export const membershipUsage = Object.values(usage)
  .map((line) => line.slice('RAFT '.length))
  .join('|');

/**
 * `RAFT ADDLEARNER|ADDVOTER|PROMOTE|REMOVE`: membership changes, run by the leader (elsewhere the
 * answer is `-NOTLEADER <id> <client address>`). The reply is the configuration the change ended
 * in, as JSON `{voters, learners}`, once it is committed; a refused change answers with its error
 * code first (`CHANGE_IN_PROGRESS`, `CATCH_UP_FAILED`, `UNSAFE_CHANGE`, …).
 */
export function membershipCommand(
  subcommand: MembershipSubcommand,
  rest: readonly string[],
  context: ServerContext,
): Promise<Buffer> | Buffer {
  const wantsAddress = subcommand === 'ADDLEARNER' || subcommand === 'ADDVOTER';
  const id = rest[0] ?? '';
  const address = rest[1] ?? '';
  if (rest.length !== (wantsAddress ? 2 : 1) || id.length === 0) {
    return errorReply(`ERR usage: ${usage[subcommand]}`);
  }
  if (wantsAddress && !/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(address)) {
    return errorReply(`ERR the Raft address must be host:port, got '${address}'`);
  }
  const node = context.node;
  const change = (): Promise<Configuration> => {
    switch (subcommand) {
      case 'ADDLEARNER':
        return node.addLearner(id, { address });
      case 'ADDVOTER':
        return node.addVoter(id, { address });
      case 'PROMOTE':
        return node.promote(id);
      case 'REMOVE':
        return node.removeServer(id);
    }
  };
  return onLeader(context, async () => {
    const configuration = await change();
    return bulkReply(
      JSON.stringify({ voters: configuration.voters, learners: configuration.learners }),
    );
  });
}
