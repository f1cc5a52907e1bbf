import { sendOnce } from '../kv/resp/resp-client.js';
import { replyText, serverReplyMsMax, type KnownMember } from './cluster-client.js';

/** A server's cut as its status document reports it. */
interface CutStatus {
  readonly id: string;
  readonly blockedPeers: readonly string[];
}

/**
 * The servers cut off from everyone: each blocks every other member. Read back from the servers
 * themselves, so the CLI and the dashboard, in different processes, agree on what is isolated.
 */
export function isolatedServers(
  members: readonly { readonly id: string }[],
  cuts: readonly CutStatus[],
): Set<string> {
  const isolated = new Set<string>();
  for (const cut of cuts) {
    const others = members.filter((member) => member.id !== cut.id);
    if (others.length > 0 && others.every((member) => cut.blockedPeers.includes(member.id))) {
      isolated.add(cut.id);
    }
  }
  return isolated;
}

/** What each server must block so that exactly `isolated` are cut off from the rest. */
export function cutsFor(
  members: readonly KnownMember[],
  isolated: ReadonlySet<string>,
): Map<string, string[]> {
  const cuts = new Map<string, string[]>();
  for (const member of members) {
    const blocked = isolated.has(member.id)
      ? members.filter((other) => other.id !== member.id).map((other) => other.id)
      : members.filter((other) => isolated.has(other.id)).map((other) => other.id);
    cuts.set(member.id, blocked);
  }
  return cuts;
}

/**
 * Cuts `id` off from every other server (servers isolated before stay isolated), through
 * `RAFT PARTITION` on each running server. Servers must run with `--fault-injection`, as the
 * local cluster's do. A server that is down is skipped; it comes back uncut.
 */
export async function isolateServer(members: readonly KnownMember[], id: string): Promise<string> {
  if (!members.some((member) => member.id === id)) throw new Error(`no member ${id}`);
  const statuses = await readCuts(members);
  const isolated = isolatedServers(members, statuses);
  isolated.add(id);
  await applyCuts(members, cutsFor(members, isolated), statuses);
  return `${[...isolated].sort().join(' ')} cut off from the others`;
}

/** Lifts every cut on every running server. */
export async function healCluster(members: readonly KnownMember[]): Promise<string> {
  const statuses = await readCuts(members);
  await applyCuts(members, new Map(members.map((member) => [member.id, []])), statuses);
  return 'every server reconnected';
}

async function readCuts(members: readonly KnownMember[]): Promise<CutStatus[]> {
  const answers = await Promise.all(
    members.map(async (member) => {
      try {
        const reply = await sendOnce(member.client, ['RAFT', 'STATUS'], serverReplyMsMax);
        const status = JSON.parse(replyText(reply)) as { blockedPeers?: string[] };
        return { id: member.id, blockedPeers: status.blockedPeers ?? [] };
      } catch {
        return null;
      }
    }),
  );
  const running = answers.filter((answer) => answer !== null);
  if (running.length === 0) throw new Error('no server answered');
  return running;
}

async function applyCuts(
  members: readonly KnownMember[],
  cuts: ReadonlyMap<string, string[]>,
  running: readonly CutStatus[],
): Promise<void> {
  const up = new Set(running.map((status) => status.id));
  await Promise.all(
    members
      .filter((member) => up.has(member.id))
      .map(async (member) => {
        const blocked = cuts.get(member.id) ?? [];
        const args = blocked.length === 0 ? ['RAFT', 'HEAL'] : ['RAFT', 'PARTITION', ...blocked];
        replyText(await sendOnce(member.client, args, serverReplyMsMax));
      }),
  );
}
