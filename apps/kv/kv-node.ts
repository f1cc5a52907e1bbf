import {
  RaftNode,
  coreDefaults,
  logNodeEvents,
  silentLogger,
  type Logger,
  type ReadConsistency,
  type ResultCodec,
  type SnapshotOptions,
} from 'raftkit';
import { StaticDiscovery, type Discovery } from 'raftkit/discovery';
import { FileStorage } from 'raftkit/storage/file';
import { TcpTransport, type TcpTlsOptions } from 'raftkit/transport/tcp';
import { readClusterLayout, splitHostPort, type ClusterLayout } from './cluster-layout.js';
import { KvMetrics, createMetricsRegistry } from './metrics/kv-metrics.js';
import { MetricsHttpServer } from './metrics/metrics-http-server.js';
import { healthCheck, readyCheck } from './metrics/probes.js';
import { reportStartupProgress } from './startup-progress.js';
import { TimedStorage } from './metrics/timed-storage.js';
import { respRequestDefaults, type RespRequestLimits } from './resp/resp-request-parser.js';
import { ClientRegistry } from './server/client-registry.js';
import { ObservedTransport } from './net/observed-transport.js';
import { RecentEvents } from './net/recent-events.js';
import { KvServer } from './server/kv-server.js';
import { statusDocument } from './server/status-document.js';
import { RequestExecutor, type KvNode, type RetryPolicy } from './server/request-executor.js';
import {
  connectionDefaults,
  type ConnectionLimits,
  type ServerContext,
} from './server/server-context.js';
import { KvStateMachine } from './state/kv-state-machine.js';

/** How to run one key-value server. */
export interface KvNodeOptions {
  /** This server's id in the layout. */
  readonly id: string;
  readonly layout: ClusterLayout;
  /** Where the Raft log lives. */
  readonly directory: string;
  /** Consistency of reads unless a connection picks another. Default `linearizable`. */
  readonly consistency?: ReadConsistency;
  /** Milliseconds per Raft tick (election timeout is 10–20 ticks). Default 100. */
  readonly tickMs?: number;
  /** When the server snapshots and how much log it keeps behind a snapshot (library defaults). */
  readonly snapshots?: Partial<SnapshotOptions>;
  /**
   * While keys carry expiries, the leader puts its clock into the log this often when no write
   * did, so keys expire on time on an idle cluster too. Default 500.
   */
  readonly clockEntryIntervalMs?: number;
  readonly retryPolicy?: Partial<RetryPolicy>;
  readonly connectionLimits?: Partial<ConnectionLimits>;
  readonly requestLimits?: Partial<RespRequestLimits>;
  /** Shared by every member; authenticates the Raft transport. */
  readonly secret?: string;
  /** Clients must AUTH with this password before any other command (Redis's `requirepass`). */
  readonly password?: string;
  /**
   * Accept `RAFT PARTITION` and `RAFT HEAL`, which cut this server off from chosen peers. For the
   * local cluster and its dashboard only: a server in production never wants them. Default false.
   */
  readonly faultInjection?: boolean;
  /** Mutual TLS for the Raft transport. */
  readonly tls?: TcpTlsOptions;
  /** Where the listeners bind, when not at the advertised addresses of the layout. */
  readonly bind?: { readonly raft?: string; readonly client?: string; readonly http?: string };
  /** How peers are found. Default: the layout's Raft addresses. */
  readonly discovery?: Discovery;
  /** Elections, leader changes, peers, rejected handshakes, storage errors. Default: silent. */
  readonly logger?: Logger;
  /**
   * How a server with empty storage starts: `bootstrap` (default) forms a new cluster of the
   * layout's members; `join` asks the other members of the layout and waits to be added (refused
   * with `DATA_LOST` if it is a voter already: it lost its disk). Storage that holds state
   * ignores both: its own configuration wins.
   */
  readonly start?: 'bootstrap' | 'join';
  /**
   * The file `layout` came from. Read again after each membership change, so that the client
   * addresses of members added later are known (redirects, `RAFT MEMBERS`).
   */
  readonly layoutFile?: string;
}

/** A running server: the node, its store and its listeners. */
export interface KvNodeHandle {
  readonly node: KvNode;
  readonly stateMachine: KvStateMachine;
  readonly metrics: KvMetrics;
  /** Stops the listeners, then the node (which closes the transport and storage). */
  stop(): Promise<void>;
}

/** Results are already the RESP bytes of the replies; forwarding carries them as they are. */
const bytesResultCodec: ResultCodec<Uint8Array> = {
  encode: (result) => result,
  decode: (bytes) => bytes,
};

/**
 * Starts one server of the key-value store: a {@link RaftNode} over {@link FileStorage} and
 * {@link TcpTransport}, the Redis-protocol listener, and the HTTP metrics listener.
 */
export async function startKvNode(options: KvNodeOptions): Promise<KvNodeHandle> {
  const self = options.layout.members.find((member) => member.id === options.id);
  if (self === undefined) throw new Error(`${options.id} is not in the cluster layout`);
  const metrics = new KvMetrics();
  // A restored keyspace loads in the background once this server is connected to every peer, or
  // after an election timeout at most. A whole cluster restarting on one machine has peers still
  // booting until then, and the CPU is better theirs; the election that follows is short, and the
  // keys are loaded by the first write. Across machines, peers connect at once.
  const tickMs = options.tickMs ?? 100;
  const peerIds = options.layout.members
    .map((member) => member.id)
    .filter((id) => id !== options.id);
  const peersConnected = (): Promise<void> =>
    new Promise((resolve) => {
      const giveUpAt = performance.now() + coreDefaults.electionTicks * tickMs;
      const check = (): void => {
        if (performance.now() >= giveUpAt || peerIds.every((id) => tcp.isConnected(id))) resolve();
        else setTimeout(check, 20).unref();
      };
      check();
    });
  const stateMachine = new KvStateMachine({ backgroundLoadAfter: peersConnected });
  const logger = options.logger ?? silentLogger;
  const discovery =
    options.discovery ??
    new StaticDiscovery(
      Object.fromEntries(options.layout.members.map((member) => [member.id, member.raft])),
    );
  const tcp = new TcpTransport({
    clusterId: options.layout.clusterId,
    discovery,
    listen: options.bind?.raft ?? self.raft,
    logger,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const transport = new ObservedTransport(tcp);
  let layout = options.layout;
  const clientAddress = (id: string): string | null =>
    layout.members.find((member) => member.id === id)?.client ?? null;
  const node: KvNode = new RaftNode({
    id: options.id,
    storage: new TimedStorage(
      new FileStorage({ directory: options.directory }),
      metrics.storageSaveSeconds,
    ),
    transport,
    stateMachine,
    ...(options.start === 'join'
      ? {
          join: {
            contacts: options.layout.members
              .map((member) => member.id)
              .filter((id) => id !== options.id),
          },
        }
      : { initialConfiguration: options.layout.members.map((member) => member.id) }),
    tickMs,
    ...(options.snapshots === undefined ? {} : { snapshots: options.snapshots }),
    forwardProposals: true,
    resultCodec: bytesResultCodec,
    addressOf: clientAddress,
  });
  const recentEvents = new RecentEvents(node);
  const layoutIds = new Set(options.layout.members.map((member) => member.id));
  const learnAddresses = (): void => {
    const { addresses } = node.status().configuration;
    learnRaftAddresses(discovery, addresses, options.id, layoutIds);
    if (options.layoutFile === undefined) return;
    try {
      layout = readClusterLayout(options.layoutFile);
    } catch (error) {
      // The addresses known so far stay in use; the next change reads the file again.
      logger.warn({ error, file: options.layoutFile }, 'cannot read the cluster layout');
    }
  };
  node.on('membership', learnAddresses);
  const stopEventLog = logNodeEvents(node, logger);
  const stopProgress = reportStartupProgress(node, logger);
  const stopLogging = (): void => {
    stopEventLog();
    stopProgress();
  };
  let starting: Promise<void> | null = null;
  const limits = { ...connectionDefaults, ...options.connectionLimits };
  const executor = new RequestExecutor({
    node,
    metrics,
    ...(options.retryPolicy === undefined ? {} : { policy: options.retryPolicy }),
    gatherLimits: { operationsMax: limits.batchOperationsMax, bytesMax: limits.batchBytesMax },
  });
  const context: ServerContext = {
    node,
    stateMachine,
    executor,
    metrics,
    get layout() {
      return layout;
    },
    limits,
    requestLimits: { ...respRequestDefaults, ...options.requestLimits },
    clients: new ClientRegistry(),
    password: options.password ?? null,
    defaultConsistency: options.consistency ?? 'linearizable',
    startedAtMs: Date.now(),
    transport,
    recentEvents,
    faultInjection: options.faultInjection ?? false,
    starting: () => starting,
  };
  const server = new KvServer({ context });
  // Clients connect while the node restores (a snapshot of a hundred thousand keys, a log tail):
  // what needs the node waits for it, instead of the port refusing them until it is ready.
  try {
    const client = splitHostPort(options.bind?.client ?? self.client);
    await server.listen(client.host, client.port);
  } catch (error) {
    stopLogging();
    throw error;
  }
  const startedMs = performance.now();
  logger.info({ directory: options.directory }, 'opening storage');
  starting = node.start();
  try {
    await starting;
  } catch (error) {
    await server.stop().catch(() => undefined);
    stopLogging();
    throw error;
  } finally {
    starting = null;
  }
  learnAddresses();
  const status = node.status();
  logger.info(
    {
      elapsedMs: Math.round(performance.now() - startedMs),
      lastIndex: status.lastIndex,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
    },
    'node started',
  );
  const registry = createMetricsRegistry({
    id: options.id,
    status: () => node.status(),
    metrics,
    keys: () => stateMachine.size,
    replicatedTimeMs: () => stateMachine.replicatedTimeMs,
    transport: () => tcp.stats(),
  });
  const http = new MetricsHttpServer({
    ...splitHostPort(options.bind?.http ?? self.http),
    metrics: () => registry.metrics(),
    metricsContentType: registry.contentType,
    status: () => statusDocument(context),
    health: () => healthCheck(node.status(), options.directory),
    ready: () => Promise.resolve(readyCheck(node.status())),
  });
  const clockTimer = startClockEntries(node, stateMachine, executor, options);
  try {
    await http.start();
  } catch (error) {
    clearInterval(clockTimer);
    await Promise.all([server.stop(), http.stop()]).catch(() => undefined);
    await node.stop();
    stopLogging();
    throw error;
  }
  return {
    node,
    stateMachine,
    metrics,
    async stop() {
      clearInterval(clockTimer);
      await Promise.all([server.stop(), http.stop()]);
      await node.stop();
      stopLogging();
    },
  };
}

/**
 * Members added at runtime carry their Raft address in the configuration: a static table learns
 * it there (a DNS-discovered cluster finds its members through DNS instead). A member the
 * server's own layout lists keeps the layout's address: the operator chose how this server
 * reaches it, and the configuration holds only how the leader that added it did.
 */
function learnRaftAddresses(
  discovery: Discovery,
  addresses: Readonly<Record<string, string>>,
  self: string,
  layoutIds: ReadonlySet<string>,
): void {
  if (!(discovery instanceof StaticDiscovery)) return;
  for (const [id, address] of Object.entries(addresses)) {
    if (id !== self && !layoutIds.has(id)) discovery.set(id, address);
  }
}

/**
 * Keeps replicated time moving while keys wait to expire: without writes, nothing else would
 * carry a newer time into the log and the keys would outlive their expiry.
 */
function startClockEntries(
  node: KvNode,
  stateMachine: KvStateMachine,
  executor: RequestExecutor,
  options: KvNodeOptions,
): NodeJS.Timeout {
  const intervalMs = options.clockEntryIntervalMs ?? 500;
  let inFlight = false;
  const timer = setInterval(() => {
    const behindMs = Date.now() - stateMachine.replicatedTimeMs;
    if (inFlight || node.role !== 'leader' || stateMachine.expiringKeys === 0) return;
    if (behindMs < intervalMs) return;
    inFlight = true;
    executor.advanceClock().then(
      () => (inFlight = false),
      // A lost clock entry is harmless: the next interval tries again.
      () => (inFlight = false),
    );
  }, intervalMs);
  timer.unref();
  return timer;
}
