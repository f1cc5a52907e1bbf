import type { ReadConsistency } from 'raftkit';
import { arrayReply, bulkReply, errorReply, nullReply, okReply } from '../resp/resp-writer.js';
import { onLeader } from './leader-replies.js';
import {
  isMembershipSubcommand,
  membershipCommand,
  membershipUsage,
} from './membership-command.js';
import type { ConnectionState, ServerContext } from './server-context.js';
import { statusDocument } from './status-document.js';

const consistencies: readonly ReadConsistency[] = ['linearizable', 'lease', 'stale'];
const settingNames: Readonly<Record<string, 'preVote' | 'checkQuorum'>> = {
  PREVOTE: 'preVote',
  CHECKQUORUM: 'checkQuorum',
};

/** The member list of RAFT MEMBERS and `raftkit members`. */
export function membersDocument(context: ServerContext): Record<string, unknown>[] {
  const status = context.node.status();
  const progress = new Map(status.progress.map((peer) => [peer.id, peer]));
  const ids = [...status.configuration.voters, ...status.configuration.learners];
  return ids.map((id) => {
    const addresses = context.layout.members.find((member) => member.id === id);
    const peer = progress.get(id);
    return {
      id,
      voter: status.configuration.voters.includes(id),
      leader: id === status.leaderId,
      client: addresses?.client ?? null,
      // A member added at runtime carries its Raft address in the configuration itself.
      raft: addresses?.raft ?? status.configuration.addresses[id] ?? null,
      http: addresses?.http ?? null,
      ...(peer === undefined
        ? {}
        : {
            match: peer.match,
            lag: status.lastIndex - peer.match,
            recentActive: peer.recentActive,
          }),
    };
  });
}

/**
 * `RAFT <subcommand>`: status and administration. Administration that only the leader can do
 * answers `-NOTLEADER <id> <client address>` elsewhere, so the caller can go there.
 */
export async function raftCommand(
  args: readonly Buffer[],
  context: ServerContext,
  connection: ConnectionState,
): Promise<Buffer> {
  const subcommand = args[1]?.toString('latin1').toUpperCase();
  const rest = args.slice(2).map((arg) => arg.toString('utf8'));
  if (isMembershipSubcommand(subcommand)) return membershipCommand(subcommand, rest, context);
  switch (subcommand) {
    case 'STATUS':
      return bulkReply(JSON.stringify(statusDocument(context)));
    case 'MEMBERS':
      return bulkReply(JSON.stringify(membersDocument(context)));
    case 'LEADER': {
      const leaderId = context.node.leaderId;
      if (leaderId === null) return nullReply;
      const leader = context.layout.members.find((member) => member.id === leaderId);
      return arrayReply([bulkReply(leaderId), bulkReply(leader?.client ?? '')]);
    }
    case 'TRANSFER':
      if (rest.length !== 1) return errorReply("ERR wrong number of arguments for 'raft transfer'");
      return leaderOnly(context, () => context.node.transferLeadership(rest[0]!));
    case 'SETTINGS':
      return settings(rest, context);
    case 'SNAPSHOT':
      if (rest.length !== 0) return errorReply("ERR wrong number of arguments for 'raft snapshot'");
      return snapshotNow(context);
    case 'CONSISTENCY': {
      if (rest.length === 0) return bulkReply(connection.consistency);
      const wanted = rest[0]!.toLowerCase() as ReadConsistency;
      if (rest.length !== 1 || !consistencies.includes(wanted)) {
        return errorReply('ERR RAFT CONSISTENCY linearizable|lease|stale');
      }
      connection.consistency = wanted;
      return okReply;
    }
    case 'PARTITION':
    case 'HEAL':
      return partition(subcommand, rest, context);
    default:
      return errorReply(
        'ERR RAFT STATUS|LEADER|MEMBERS|TRANSFER <id>|SETTINGS [prevote|checkquorum on|off]|CONSISTENCY [level]|SNAPSHOT|PARTITION <id>...|HEAL|' +
          membershipUsage,
      );
  }
}

function settings(rest: readonly string[], context: ServerContext): Promise<Buffer> | Buffer {
  if (rest.length === 0) return bulkReply(JSON.stringify(context.node.status().settings));
  const name = settingNames[rest[0]!.toUpperCase()];
  const value = rest[1]?.toLowerCase();
  if (rest.length !== 2 || name === undefined || (value !== 'on' && value !== 'off')) {
    return errorReply('ERR RAFT SETTINGS prevote|checkquorum on|off');
  }
  return leaderOnly(context, () => context.node.updateSettings({ [name]: value === 'on' }));
}

function leaderOnly(context: ServerContext, action: () => Promise<void>): Promise<Buffer> {
  return onLeader(context, async () => {
    await action();
    return okReply;
  });
}

/**
 * `RAFT PARTITION <id>…` cuts this server off from those peers (replacing any earlier cut);
 * `RAFT HEAL` lifts it. Only on servers started for fault injection (the local cluster).
 */
function partition(
  subcommand: 'PARTITION' | 'HEAL',
  peers: readonly string[],
  context: ServerContext,
) {
  if (!context.faultInjection) {
    return errorReply(
      'ERR fault injection is off on this server (start it with --fault-injection)',
    );
  }
  if (subcommand === 'HEAL') {
    if (peers.length !== 0) return errorReply("ERR wrong number of arguments for 'raft heal'");
    context.transport.block([]);
    return okReply;
  }
  if (peers.length === 0) return errorReply("ERR wrong number of arguments for 'raft partition'");
  const self = context.node.id;
  const unknown = peers.filter(
    (peer) => !context.layout.members.some((member) => member.id === peer),
  );
  if (unknown.length > 0) return errorReply(`ERR unknown server ${unknown.join(' ')}`);
  context.transport.block(peers.filter((peer) => peer !== self));
  return okReply;
}

/** `RAFT SNAPSHOT`: this server snapshots its state now (a leader keeps leading). */
async function snapshotNow(context: ServerContext): Promise<Buffer> {
  try {
    const snapshot = await context.node.snapshot();
    return bulkReply(JSON.stringify({ index: snapshot.meta.index, bytes: snapshot.bytes }));
  } catch (error) {
    return errorReply(
      `ERR snapshot failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
