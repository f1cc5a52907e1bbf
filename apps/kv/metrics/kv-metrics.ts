import type { NodeStatus } from 'raftkit';
import { Histogram } from './histogram.js';

/** What the server measures itself, beside what the node counts. */
export class KvMetrics {
  /** One storage `save`: a group commit's write and fsync. */
  readonly storageSaveSeconds = new Histogram();
  /** From proposing a batch to its result: replication, commit and apply. */
  readonly commitSeconds = new Histogram();
  /** From asking for a read to its answer, at the connection's consistency. */
  readonly readSeconds = new Histogram();
  writeBatches = 0;
  writeOperations = 0;
  writeErrors = 0;
  readBatches = 0;
  readErrors = 0;
  connectionsAccepted = 0;
  connectionsOpen = 0;
  protocolErrors = 0;
}

/** What the exposition needs from the running server. */
export interface MetricsSource {
  readonly status: NodeStatus;
  readonly metrics: KvMetrics;
  readonly keys: number;
  readonly replicatedTimeMs: number;
}

function line(name: string, help: string, type: string, samples: string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

/** Renders the Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(source: MetricsSource): string {
  const { status, metrics } = source;
  const counters = status.counters;
  const node = `node="${status.id}"`;
  const counter = (name: string, help: string, value: number): string[] =>
    line(name, help, 'counter', [`${name}{${node}} ${value}`]);
  const gauge = (name: string, help: string, value: number): string[] =>
    line(name, help, 'gauge', [`${name}{${node}} ${value}`]);
  const histogram = (name: string, help: string, value: Histogram): string[] =>
    line(name, help, 'histogram', value.render(name, node));
  const peerLag = status.progress
    .filter((peer) => peer.id !== status.id)
    .map(
      (peer) =>
        `raftkit_peer_lag_entries{${node},peer="${peer.id}"} ${status.lastIndex - peer.match}`,
    );
  const peerActive = status.progress
    .filter((peer) => peer.id !== status.id)
    .map(
      (peer) =>
        `raftkit_peer_recent_active{${node},peer="${peer.id}"} ${peer.recentActive ? 1 : 0}`,
    );
  return (
    [
      ...gauge(
        'raftkit_is_leader',
        'Whether this server leads (1) or not (0).',
        status.role === 'leader' ? 1 : 0,
      ),
      ...gauge('raftkit_term', 'Current Raft term.', status.term),
      ...gauge('raftkit_commit_index', 'Highest log index known committed.', status.commitIndex),
      ...gauge(
        'raftkit_applied_index',
        'Highest log index applied to the store.',
        status.appliedIndex,
      ),
      ...gauge('raftkit_last_index', 'Last index in the local log.', status.lastIndex),
      ...counter('raftkit_proposals_total', 'Proposals made on this server.', counters.proposals),
      ...counter(
        'raftkit_proposals_forwarded_total',
        'Proposals forwarded to the leader.',
        counters.proposalsForwarded,
      ),
      ...counter('raftkit_reads_total', 'Reads asked of this server.', counters.reads),
      ...counter(
        'raftkit_entries_persisted_total',
        'Log entries written to storage.',
        counters.entriesPersisted,
      ),
      ...counter('raftkit_entries_applied_total', 'Log entries applied.', counters.entriesApplied),
      ...counter(
        'raftkit_storage_writes_total',
        'Storage saves (group commits).',
        counters.storageWrites,
      ),
      ...counter('raftkit_messages_sent_total', 'Raft messages sent.', counters.messagesSent),
      ...counter(
        'raftkit_messages_received_total',
        'Raft messages received.',
        counters.messagesReceived,
      ),
      ...counter('raftkit_elections_total', 'Elections this server started.', counters.elections),
      ...counter(
        'raftkit_leader_changes_total',
        'Changes of the leader this server follows.',
        counters.leaderChanges,
      ),
      ...histogram(
        'raftkit_storage_save_seconds',
        'Time of one storage save including fsync.',
        metrics.storageSaveSeconds,
      ),
      ...histogram(
        'kv_commit_seconds',
        'Time from proposing a write batch to its result.',
        metrics.commitSeconds,
      ),
      ...histogram(
        'kv_read_seconds',
        'Time from asking for a read to its answer.',
        metrics.readSeconds,
      ),
      ...line(
        'raftkit_peer_lag_entries',
        'Leader only: last index minus the peer match index.',
        'gauge',
        peerLag,
      ),
      ...line(
        'raftkit_peer_recent_active',
        'Leader only: whether the peer answered recently.',
        'gauge',
        peerActive,
      ),
      ...counter(
        'kv_write_batches_total',
        'Write batches (proposals) committed.',
        metrics.writeBatches,
      ),
      ...counter('kv_write_operations_total', 'Write commands committed.', metrics.writeOperations),
      ...counter('kv_write_errors_total', 'Write batches that failed.', metrics.writeErrors),
      ...counter('kv_read_batches_total', 'Read batches answered.', metrics.readBatches),
      ...counter('kv_read_errors_total', 'Read batches that failed.', metrics.readErrors),
      ...counter(
        'kv_connections_accepted_total',
        'Client connections accepted.',
        metrics.connectionsAccepted,
      ),
      ...gauge('kv_connections_open', 'Client connections open.', metrics.connectionsOpen),
      ...counter(
        'kv_protocol_errors_total',
        'Connections closed for malformed or oversized requests.',
        metrics.protocolErrors,
      ),
      ...gauge('kv_keys', 'Live keys in the store.', source.keys),
      ...gauge(
        'kv_replicated_time_ms',
        'The replicated clock used for expiry.',
        source.replicatedTimeMs,
      ),
    ].join('\n') + '\n'
  );
}
