import type { ReadConsistency } from 'raftkit';
import type { ClusterLayout } from '../cluster-layout.js';
import type { KvMetrics } from '../metrics/kv-metrics.js';
import type { KvStateMachine } from '../state/kv-state-machine.js';
import type { KvNode, RequestExecutor } from './request-executor.js';

/** Everything a connection needs from the server it belongs to. */
export interface ServerContext {
  readonly node: KvNode;
  readonly stateMachine: KvStateMachine;
  readonly executor: RequestExecutor;
  readonly metrics: KvMetrics;
  readonly layout: ClusterLayout;
  readonly limits: ConnectionLimits;
  readonly defaultConsistency: ReadConsistency;
  /** When the server started, for INFO's uptime. */
  readonly startedAtMs: number;
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
}

export const defaultConnectionLimits: ConnectionLimits = Object.freeze({
  queuedRequestsMax: 4096,
  batchOperationsMax: 1024,
  batchBytesMax: 900 * 1024,
  pendingReplyBytesMax: 4 * 1024 * 1024,
});

/** What a connection remembers between requests. */
export interface ConnectionState {
  readonly id: number;
  consistency: ReadConsistency;
  name: string | null;
  /** Set by QUIT: close once the replies so far are written. */
  closing: boolean;
}
