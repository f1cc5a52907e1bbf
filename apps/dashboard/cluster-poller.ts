import type { ClusterPoll, MemberPoll, ServerStatus } from './cluster-view.js';

/** A member's addresses, as the layout gives them. */
export interface MemberAddress {
  readonly id: string;
  readonly client: string;
  readonly http: string | null;
}

/** How long one server's `/status` may take before it counts as down for this poll. */
export const statusReplyMsMax = 800;

/** Asks every member for its status document at once; a member that does not answer is down. */
export async function pollCluster(
  members: readonly MemberAddress[],
  now: () => number = Date.now,
): Promise<ClusterPoll> {
  const answers = await Promise.all(members.map((member) => pollMember(member)));
  return { atMs: now(), members: answers };
}

async function pollMember(member: MemberAddress): Promise<MemberPoll> {
  const base = { id: member.id, client: member.client, http: member.http };
  if (member.http === null) return { ...base, status: null, error: 'no HTTP address' };
  try {
    const response = await fetch(`http://${member.http}/status`, {
      signal: AbortSignal.timeout(statusReplyMsMax),
    });
    if (!response.ok) return { ...base, status: null, error: `HTTP ${response.status}` };
    return { ...base, status: (await response.json()) as ServerStatus, error: null };
  } catch (error) {
    return { ...base, status: null, error: error instanceof Error ? error.message : String(error) };
  }
}
