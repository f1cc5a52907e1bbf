import { existsSync } from 'node:fs';
import { readClusterLayout } from '../kv/cluster-layout.js';
import { sendOnce } from '../kv/resp/resp-client.js';
import type { RespValue } from '../kv/resp/resp-reply-parser.js';
import { layoutPath } from './local-cluster.js';

/** How long the CLI waits for one server. */
export const serverReplyMsMax = 2000;
/** NOTLEADER redirects followed before giving up (the leader may move while we chase it). */
const redirectsMax = 3;

/** Where the CLI finds the cluster: one server's client address, or a data directory. */
export interface ClusterTarget {
  readonly server?: string;
  readonly directory: string;
}

/** One member as the CLI knows it. */
export interface KnownMember {
  readonly id: string;
  readonly client: string;
  readonly http: string | null;
}

/** A reply as text, or throws with the server's error message. */
export function replyText(reply: RespValue): string {
  if (reply.type === 'error') throw new Error(reply.message);
  if (reply.type === 'bulk' && reply.value !== null) return reply.value.toString('utf8');
  if (reply.type === 'simple') return reply.value;
  throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
}

/** The members: from the server given, or from the layout in the data directory. */
export async function knownMembers(target: ClusterTarget): Promise<KnownMember[]> {
  if (target.server !== undefined) {
    const reply = await sendOnce(target.server, ['RAFT', 'MEMBERS'], serverReplyMsMax);
    const members = JSON.parse(replyText(reply)) as {
      id: string;
      client: string | null;
      http: string | null;
    }[];
    return members
      .filter((member) => member.client !== null)
      .map((member) => ({ id: member.id, client: member.client!, http: member.http }));
  }
  const file = layoutPath(target.directory);
  if (!existsSync(file)) {
    throw new Error(
      `no cluster in ${target.directory} (${file} is missing); pass --server host:port`,
    );
  }
  return readClusterLayout(file).members.map((member) => ({
    id: member.id,
    client: member.client,
    http: member.http,
  }));
}

/** Sends `args` to the first member that answers; returns its reply and who answered. */
export async function askAny(
  members: readonly KnownMember[],
  args: readonly string[],
  timeoutMs = serverReplyMsMax,
): Promise<{ reply: RespValue; member: KnownMember }> {
  const failures: string[] = [];
  for (const member of members) {
    try {
      return { reply: await sendOnce(member.client, args, timeoutMs), member };
    } catch (error) {
      failures.push(`${member.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no server answered (${failures.join('; ')})`);
}

/**
 * Sends an administrative command that only the leader runs: to any member first, then to the
 * leader each `NOTLEADER <id> <address>` answer names. `timeoutMs` bounds each server's reply
 * (a membership change waits for a new server to catch up).
 */
export async function askLeader(
  members: readonly KnownMember[],
  args: readonly string[],
  timeoutMs = serverReplyMsMax,
): Promise<RespValue> {
  let { reply } = await askAny(members, args, timeoutMs);
  for (let redirect = 0; redirect < redirectsMax; redirect++) {
    if (reply.type !== 'error' || !reply.message.startsWith('NOTLEADER')) return reply;
    const address = reply.message.split(' ')[2];
    if (address === undefined) throw new Error('no leader is known; an election is under way');
    reply = await sendOnce(address, args, timeoutMs);
  }
  return reply;
}
