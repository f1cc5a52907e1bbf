import { setTimeout as sleep } from 'node:timers/promises';
import { errorReply, integerReply } from '../resp/resp-writer.js';
import type { ConnectionState, ServerContext } from './server-context.js';

/** WAIT's timeout 0 means "no timeout" in Redis; here it means this long. */
export const waitTimeoutMsMax = 60_000;
/** How often the leader's replication progress is looked at while WAIT blocks. */
const waitPollMs = 10;

/**
 * `WAIT numreplicas timeout`, for a replicated log. Every write acknowledged to a client is
 * already committed — in the log of a majority of servers, fsynced — so WAIT never needs to
 * block for durability. It answers how many *other* servers hold the log up to this server's
 * commit index:
 * - on the leader, counted from replication progress, blocking up to `timeout` ms until at least
 *   `numreplicas` do (so `WAIT <all followers> 1000` waits for every follower to catch up);
 * - on a follower, which cannot see the others' progress, at once: the majority a commit
 *   guarantees (voters / 2, rounded down).
 */
export async function wait(
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Promise<Buffer> {
  const wanted = Number(args[1]!.toString('latin1'));
  const timeoutMs = Number(args[2]!.toString('latin1'));
  // A negative count is accepted, as in Redis: it asks for nothing.
  if (!Number.isSafeInteger(wanted)) {
    return errorReply('ERR value is not an integer or out of range');
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
    return errorReply('ERR timeout is negative');
  }
  const start = context.node.status();
  const guaranteed = Math.floor(start.configuration.voters.length / 2);
  if (start.role !== 'leader') return integerReply(guaranteed);
  const target = start.commitIndex;
  const deadline = Date.now() + (timeoutMs === 0 ? waitTimeoutMsMax : timeoutMs);
  for (;;) {
    const status = context.node.status();
    if (status.role !== 'leader') return integerReply(guaranteed);
    const caughtUp = status.progress.filter(
      (peer) => peer.id !== status.id && peer.match >= target,
    ).length;
    if (caughtUp >= wanted || Date.now() >= deadline || connection.closing) {
      return integerReply(caughtUp);
    }
    await sleep(waitPollMs);
  }
}
