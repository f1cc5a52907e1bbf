/** INFO and CONFIG GET: what clients and operators probe about the server. */
import { GlobPattern } from '../state/glob.js';
import { arrayReply, bulkReply, errorReply } from '../resp/resp-writer.js';
import type { ServerContext } from './server-context.js';

type Section = (context: ServerContext) => string[];

const sections: ReadonlyMap<string, Section> = new Map<string, Section>([
  [
    'server',
    (context) => [
      'redis_version:7.0.0',
      'redis_mode:standalone',
      'raftkit_kv:1',
      `process_id:${process.pid}`,
      `tcp_port:${
        context.layout.members
          .find((member) => member.id === context.node.id)
          ?.client.split(':')
          .at(-1) ?? ''
      }`,
      `uptime_in_seconds:${Math.floor((Date.now() - context.startedAtMs) / 1000)}`,
    ],
  ],
  [
    'clients',
    (context) => [
      `connected_clients:${context.clients.size}`,
      `maxclients:${context.limits.connectionsMax}`,
    ],
  ],
  [
    'memory',
    () => {
      const usage = process.memoryUsage();
      return [`used_memory:${usage.heapUsed}`, `used_memory_rss:${usage.rss}`, 'maxmemory:0'];
    },
  ],
  [
    // Clients wait for loading:0 before their first command; the log replays before listening.
    'persistence',
    () => ['loading:0', 'aof_enabled:1', 'rdb_bgsave_in_progress:0'],
  ],
  [
    'stats',
    (context) => [
      `total_connections_received:${context.metrics.connectionsAccepted}`,
      `total_commands_processed:${context.metrics.writeOperations + context.metrics.readBatches}`,
      `total_write_batches:${context.metrics.writeBatches}`,
      `protocol_errors:${context.metrics.protocolErrors}`,
    ],
  ],
  [
    'replication',
    (context) => {
      const status = context.node.status();
      return [
        `role:${status.role === 'leader' ? 'master' : 'slave'}`,
        `connected_slaves:${status.role === 'leader' ? status.progress.filter((peer) => peer.id !== status.id && peer.recentActive).length : 0}`,
      ];
    },
  ],
  [
    'raft',
    (context) => {
      const status = context.node.status();
      return [
        `raft_id:${status.id}`,
        `raft_role:${status.role}`,
        `raft_term:${status.term}`,
        `raft_leader:${status.leaderId ?? ''}`,
        `raft_commit_index:${status.commitIndex}`,
        `raft_applied_index:${status.appliedIndex}`,
        `raft_last_index:${status.lastIndex}`,
        `raft_prevote:${status.settings.preVote ? 1 : 0}`,
        `raft_checkquorum:${status.settings.checkQuorum ? 1 : 0}`,
      ];
    },
  ],
  // Client libraries probe this to tell a cluster from a standalone server.
  ['cluster', () => ['cluster_enabled:0']],
  [
    'keyspace',
    (context) =>
      context.stateMachine.size === 0
        ? []
        : [
            `db0:keys=${context.stateMachine.size},expires=${context.stateMachine.expiringKeys},avg_ttl=0`,
          ],
  ],
]);

/** `INFO [section…]`: no section, `default`, `all` or `everything` mean every section. */
export function info(args: readonly Buffer[], context: ServerContext): Buffer {
  const asked = args.slice(1).map((arg) => arg.toString('latin1').toLowerCase());
  const every =
    asked.length === 0 || asked.some((name) => ['all', 'everything', 'default'].includes(name));
  const chosen = [...sections].filter(([name]) => every || asked.includes(name));
  const text = chosen
    .map(([name, section]) =>
      [`# ${name[0]!.toUpperCase()}${name.slice(1)}`, ...section(context), ''].join('\r\n'),
    )
    .join('\r\n');
  return bulkReply(text);
}

/** The settings CONFIG GET reports: what clients and redis-benchmark probe, with true values. */
function configValues(context: ServerContext): [string, string][] {
  return [
    ['maxclients', String(context.limits.connectionsMax)],
    // Whole seconds, as Redis reports it; a fraction rounds up, since 0 would mean "never".
    ['timeout', String(Math.ceil(context.limits.idleTimeoutMs / 1000))],
    ['proto-max-bulk-len', String(context.requestLimits.requestBytesMax)],
    ['client-query-buffer-limit', String(context.requestLimits.requestBytesMax)],
    ['databases', '1'],
    ['save', ''],
    // Every acknowledged write is in the log of a majority, fsynced: the AOF-always equivalent.
    ['appendonly', 'yes'],
    ['appendfsync', 'always'],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['cluster-enabled', 'no'],
  ];
}

/** `CONFIG GET pattern…`; every other subcommand is refused: settings change by restarting. */
export function config(args: readonly Buffer[], context: ServerContext): Buffer {
  const subcommand = args[1]!.toString('latin1').toUpperCase();
  if (subcommand === 'RESETSTAT') return errorReply('ERR CONFIG RESETSTAT is not supported');
  if (subcommand !== 'GET') {
    return errorReply(
      `ERR CONFIG ${subcommand.toLowerCase()} is not supported: settings are flags of the server`,
    );
  }
  if (args.length < 3) return errorReply("ERR wrong number of arguments for 'config|get' command");
  const patterns = args
    .slice(2)
    .map((arg) => new GlobPattern(arg.toString('latin1').toLowerCase()));
  const matched = configValues(context).filter(([name]) =>
    patterns.some((pattern) => pattern.matches(name)),
  );
  return arrayReply(matched.flatMap(([name, value]) => [bulkReply(name), bulkReply(value)]));
}
