import type { NodeStatus } from 'raftkit';
import type { TcpTransportStats } from 'raftkit/transport/tcp';
import { Counter, Gauge, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import { LatencyHistogram } from './latency-histogram.js';

/** Upper bounds, in seconds, for latencies from sub-millisecond fsyncs to multi-second stalls. */
export const latencyBucketsSeconds: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Something that records one duration; a Prometheus histogram. */
export interface Timing {
  observe(seconds: number): void;
}

function latencyHistogram(name: string, help: string): LatencyHistogram {
  // Registered in the server's own registry, never in prom-client's global one, so two servers in
  // one process (tests) keep their numbers apart.
  return new LatencyHistogram({ name, help, buckets: [...latencyBucketsSeconds] });
}

/** What the server measures itself, beside what the node and the transport count. */
export class KvMetrics {
  /** One storage `save`: a group commit's write and fsync. */
  readonly storageSaveSeconds = latencyHistogram(
    'raftkit_storage_save_seconds',
    'Time of one storage save including fsync.',
  );
  /** From proposing a batch to its result: replication, commit and apply. */
  readonly commitSeconds = latencyHistogram(
    'kv_commit_seconds',
    'Time from proposing a write batch to its result.',
  );
  /** From asking for a read to its answer, at the connection's consistency. */
  readonly readSeconds = latencyHistogram(
    'kv_read_seconds',
    'Time from asking for a read to its answer.',
  );
  writeBatches = 0;
  writeOperations = 0;
  writeErrors = 0;
  readBatches = 0;
  readErrors = 0;
  connectionsAccepted = 0;
  connectionsOpen = 0;
  protocolErrors = 0;
}

/** What the exposition reads from the running server at each scrape. */
export interface MetricsSource {
  readonly id: string;
  status(): NodeStatus;
  readonly metrics: KvMetrics;
  keys(): number;
  replicatedTimeMs(): number;
  /** The Raft transport's counters. */
  transport(): TcpTransportStats;
}

type Sample = readonly [labels: LabelValues<string>, value: number];

/** How a metric read at scrape time is declared: its registry, name, help and labels. */
interface ScrapedMetric {
  readonly registry: Registry;
  readonly name: string;
  readonly help: string;
  readonly read: () => number | readonly Sample[];
  readonly labelNames?: readonly string[];
}

/**
 * A metric whose samples live elsewhere (the node, the transport, the server's counts) and are
 * read at each scrape: a gauge, or a counter when the source is a running total (prom-client
 * counters only go up through inc(), so each scrape resets, then adds the total).
 */
function scraped(kind: 'gauge' | 'counter', metric: ScrapedMetric): void {
  const { read } = metric;
  const common = {
    name: metric.name,
    help: metric.help,
    labelNames: [...(metric.labelNames ?? [])],
    registers: [metric.registry],
  };
  const fill = (write: (labels: LabelValues<string>, value: number) => void): void => {
    const value = read();
    if (typeof value === 'number') write({}, value);
    else for (const [labels, sample] of value) write(labels, sample);
  };
  if (kind === 'gauge') {
    new Gauge({
      ...common,
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  } else {
    new Counter({
      ...common,
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });
  }
}

function gauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | readonly Sample[],
  labelNames: readonly string[] = [],
): void {
  scraped('gauge', { registry, name, help, read, labelNames });
}

function counter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | readonly Sample[],
  labelNames: readonly string[] = [],
): void {
  scraped('counter', { registry, name, help, read, labelNames });
}

/**
 * The server's Prometheus registry: the node's state and counters, the transport's connections,
 * rejections and drops, the server's own latencies and counts, and the process metrics (CPU,
 * memory, event loop lag, file descriptors). Every sample carries `node="<id>"`.
 */
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node: source.id });
  collectDefaultMetrics({ register: registry });
  const { metrics } = source;
  for (const histogram of [
    metrics.storageSaveSeconds,
    metrics.commitSeconds,
    metrics.readSeconds,
  ]) {
    registry.registerMetric(histogram);
  }
  registerNodeMetrics(registry, source);
  registerTransportMetrics(registry, source);
  const count = (name: string, help: string, read: () => number): void =>
    counter(registry, name, help, read);
  count(
    'kv_write_batches_total',
    'Write batches (proposals) committed.',
    () => metrics.writeBatches,
  );
  count('kv_write_operations_total', 'Write commands committed.', () => metrics.writeOperations);
  count('kv_write_errors_total', 'Write batches that failed.', () => metrics.writeErrors);
  count('kv_read_batches_total', 'Read batches answered.', () => metrics.readBatches);
  count('kv_read_errors_total', 'Read batches that failed.', () => metrics.readErrors);
  count(
    'kv_connections_accepted_total',
    'Client connections accepted.',
    () => metrics.connectionsAccepted,
  );
  gauge(registry, 'kv_connections_open', 'Client connections open.', () => metrics.connectionsOpen);
  count(
    'kv_protocol_errors_total',
    'Connections closed for malformed or oversized requests.',
    () => metrics.protocolErrors,
  );
  gauge(registry, 'kv_keys', 'Live keys in the store.', () => source.keys());
  gauge(registry, 'kv_replicated_time_ms', 'The replicated clock used for expiry.', () =>
    source.replicatedTimeMs(),
  );
  return registry;
}

function registerNodeMetrics(registry: Registry, source: MetricsSource): void {
  const status = (): NodeStatus => source.status();
  const stat = (name: string, help: string, read: (value: NodeStatus) => number): void =>
    gauge(registry, name, help, () => read(status()));
  stat('raftkit_is_leader', 'Whether this server leads (1) or not (0).', (value) =>
    value.role === 'leader' ? 1 : 0,
  );
  stat('raftkit_term', 'Current Raft term.', (value) => value.term);
  stat('raftkit_commit_index', 'Highest log index known committed.', (value) => value.commitIndex);
  stat(
    'raftkit_applied_index',
    'Highest log index applied to the store.',
    (value) => value.appliedIndex,
  );
  stat('raftkit_last_index', 'Last index in the local log.', (value) => value.lastIndex);
  const counters: readonly [string, string, keyof NodeStatus['counters']][] = [
    ['raftkit_proposals_total', 'Proposals made on this server.', 'proposals'],
    [
      'raftkit_proposals_forwarded_total',
      'Proposals forwarded to the leader.',
      'proposalsForwarded',
    ],
    ['raftkit_reads_total', 'Reads asked of this server.', 'reads'],
    ['raftkit_entries_persisted_total', 'Log entries written to storage.', 'entriesPersisted'],
    ['raftkit_entries_applied_total', 'Log entries applied.', 'entriesApplied'],
    ['raftkit_storage_writes_total', 'Storage saves (group commits).', 'storageWrites'],
    ['raftkit_messages_sent_total', 'Raft messages sent.', 'messagesSent'],
    ['raftkit_messages_received_total', 'Raft messages received.', 'messagesReceived'],
    ['raftkit_messages_rejected_total', 'Raft messages the node refused.', 'messagesRejected'],
    ['raftkit_elections_total', 'Elections this server started.', 'elections'],
    ['raftkit_leader_changes_total', 'Changes of the leader this server follows.', 'leaderChanges'],
  ];
  for (const [name, help, key] of counters) {
    counter(registry, name, help, () => status().counters[key]);
  }
  const peers =
    (read: (peer: NodeStatus['progress'][number], value: NodeStatus) => number) => (): Sample[] => {
      const value = status();
      return value.progress
        .filter((peer) => peer.id !== value.id)
        .map((peer) => [{ peer: peer.id }, read(peer, value)] as const);
    };
  gauge(
    registry,
    'raftkit_peer_lag_entries',
    'Leader only: last index minus the peer match index.',
    peers((peer, value) => value.lastIndex - peer.match),
    ['peer'],
  );
  gauge(
    registry,
    'raftkit_peer_recent_active',
    'Leader only: whether the peer answered recently.',
    peers((peer) => (peer.recentActive ? 1 : 0)),
    ['peer'],
  );
}

function registerTransportMetrics(registry: Registry, source: MetricsSource): void {
  const byReason =
    (read: (stats: TcpTransportStats) => Readonly<Record<string, number>>) => (): Sample[] =>
      Object.entries(read(source.transport())).map(
        ([reason, value]) => [{ reason }, value] as const,
      );
  counter(
    registry,
    'raftkit_transport_connections_total',
    'Raft connections by event: opened (outbound), accepted (inbound), failed, refusedByPeer, stalled.',
    (): Sample[] =>
      Object.entries(source.transport().connections).map(
        ([event, value]) => [{ event }, value] as const,
      ),
    ['event'],
  );
  counter(
    registry,
    'raftkit_transport_rejected_total',
    'Inbound Raft connections or messages refused, by reason (unauthenticated: rejected handshakes).',
    byReason((stats) => stats.rejected),
    ['reason'],
  );
  counter(
    registry,
    'raftkit_transport_dropped_total',
    'Outgoing Raft messages lost before reaching a socket, by reason.',
    byReason((stats) => stats.dropped),
    ['reason'],
  );
  counter(
    registry,
    'raftkit_transport_messages_sent_total',
    'Raft messages handed to the transport.',
    () => source.transport().sent,
  );
  counter(
    registry,
    'raftkit_transport_messages_received_total',
    'Raft messages the transport delivered.',
    () => source.transport().received,
  );
}
