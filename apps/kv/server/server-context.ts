import type { ReadConsistency } from 'raftkit';
import type { ClusterLayout } from '../cluster-layout.js';
import type { KvMetrics } from '../metrics/kv-metrics.js';
import type { RespRequestLimits } from '../resp/resp-request-parser.js';
import type { ObservedTransport } from '../net/observed-transport.js';
import type { RecentEvents } from '../net/recent-events.js';
import type { KvStateMachine } from '../state/kv-state-machine.js';
import type { ClientRegistry } from './client-registry.js';
import type { KvNode, RequestExecutor } from './request-executor.js';

/** Everything a connection needs from the server it belongs to. */
export interface ServerContext {
  readonly node: KvNode;
  readonly stateMachine: KvStateMachine;
  readonly executor: RequestExecutor;
  readonly metrics: KvMetrics;
  readonly layout: ClusterLayout;
  readonly limits: ConnectionLimits;
  readonly requestLimits: RespRequestLimits;
  readonly clients: ClientRegistry;
  readonly defaultConsistency: ReadConsistency;
  /** The password clients must give with AUTH (or HELLO … AUTH) first, or null for none. */
  readonly password: string | null;
  /** When the server started, for INFO's uptime. */
  readonly startedAtMs: number;
  /** What this server sends to whom, and the cut made by `RAFT PARTITION`. */
  readonly transport: ObservedTransport;
  readonly recentEvents: RecentEvents;
  /** Whether `RAFT PARTITION` and `RAFT HEAL` are accepted. */
  readonly faultInjection: boolean;
  /**
   * While the node is still starting (restoring a snapshot, replaying its log), the promise that
   * settles when it has started or failed to; `null` from then on. The server listens from the
   * beginning, so clients connect at once and their commands wait here instead of being refused.
   */
  readonly starting: () => Promise<void> | null;
}

/** Per-connection bounds; the parser's request limits come on top. */
export interface ConnectionLimits {
  /** Parsed requests waiting to run; beyond it the socket stops being read until they drain. */
  readonly queuedRequestsMax: number;
  /** Operations in one proposal or read batch. */
  readonly batchOperationsMax: number;
  /** Encoded bytes of one proposal; below the core's `messageBytesMax`. */
  readonly batchBytesMax: number;
  /** Reply bytes waiting in the socket before the connection waits for the client to read. */
  readonly pendingReplyBytesMax: number;
  /** Commands queued between MULTI and EXEC. */
  readonly transactionCommandsMax: number;
  /** Bytes of the keys one connection WATCHes; they travel in the transaction's log entry. */
  readonly watchedKeyBytesMax: number;
  /** Connections held at once (Redis's `maxclients`); more are refused with an error. */
  readonly connectionsMax: number;
  /** A connection idle this long is closed (Redis's `timeout`); 0 keeps idle connections. */
  readonly idleTimeoutMs: number;
}

export const connectionDefaults: ConnectionLimits = Object.freeze({
  queuedRequestsMax: 4096,
  batchOperationsMax: 1024,
  batchBytesMax: 900 * 1024,
  pendingReplyBytesMax: 4 * 1024 * 1024,
  transactionCommandsMax: 10_000,
  watchedKeyBytesMax: 64 * 1024,
  connectionsMax: 10_000,
  idleTimeoutMs: 0,
});

/** What a connection remembers between requests. */
export interface ConnectionState {
  readonly id: number;
  /** The client's `host:port`, and ours, for CLIENT LIST and CLIENT KILL. */
  readonly address: string;
  readonly localAddress: string;
  readonly createdAtMs: number;
  consistency: ReadConsistency;
  name: string | null;
  /** Set once AUTH (or HELLO … AUTH) succeeded; true from the start when there is no password. */
  authenticated: boolean;
  /** WATCHed keys (latin1) → the log index at which they were looked at. */
  readonly watched: Map<string, number>;
  /** Bytes of the WATCHed keys, against `watchedKeyBytesMax`. */
  watchedKeyBytes: number;
  /** Between MULTI and EXEC/DISCARD (for CLIENT LIST's flags). */
  inTransaction: boolean;
  /**
   * The last command's name as planned (upper-case), null before the first, and when it arrived,
   * for CLIENT LIST (which lower-cases it only when asked).
   */
  lastCommand: string | null;
  lastActivityMs: number;
  /** Set by QUIT: close once the replies so far are written. */
  closing: boolean;
}
