import { sendOnce } from '../kv/resp/resp-client.js';
import { replyText, type KnownMember } from './cluster-client.js';

/** A snapshot writes the whole state: allow it far longer than an ordinary reply. */
export const snapshotReplyMsMax = 60_000;

/**
 * `raftkit snapshot [<id>]`: asks one server, or every member, to snapshot now (`RAFT
 * SNAPSHOT`). Returns one line per server; throws when none could take one.
 */
export async function snapshotServers(
  members: readonly KnownMember[],
  id: string | null,
): Promise<string[]> {
  const chosen = id === null ? members : members.filter((member) => member.id === id);
  if (chosen.length === 0) throw new Error(`no member ${id}`);
  const lines = await Promise.all(
    chosen.map(async (member) => {
      try {
        const reply = await sendOnce(member.client, ['RAFT', 'SNAPSHOT'], snapshotReplyMsMax);
        const taken = JSON.parse(replyText(reply)) as { index: number; bytes: number };
        return {
          ok: true,
          line: `${member.id}: snapshot at index ${taken.index}, ${taken.bytes} bytes`,
        };
      } catch (error) {
        return {
          ok: false,
          line: `${member.id}: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }),
  );
  if (!lines.some((line) => line.ok)) {
    throw new Error(`no snapshot taken (${lines.map((line) => line.line).join('; ')})`);
  }
  return lines.map((line) => line.line);
}
