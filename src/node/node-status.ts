import {
  emptyConfiguration,
  type ClusterSettings,
  type CoreStatus,
  type NodeId,
} from '../core/index.js';
import type { RaftCore } from '../core/index.js';
import type { NodeCounters, NodeCounterValues } from './node-counters.js';
import type { RequestGate } from './request-gate.js';

/** What `status()` reports: the core's view plus the runtime's counters. */
export interface NodeStatus extends CoreStatus {
  readonly appliedIndex: number;
  readonly leaderAddress: string | null;
  readonly running: boolean;
  readonly counters: NodeCounterValues;
}

/** The core's part of the status of a node that has not started (no core exists yet). */
export function statusBeforeStart(id: NodeId, settings: ClusterSettings): CoreStatus {
  return {
    id,
    role: 'follower',
    term: 0,
    vote: null,
    leaderId: null,
    commitIndex: 0,
    appliedIndex: 0,
    lastIndex: 0,
    lastTerm: 0,
    stableIndex: 0,
    snapshotIndex: 0,
    configuration: emptyConfiguration,
    settings,
    progress: [],
  };
}

/** `RaftNode.status()`: the core's status (or the one before start) with the runtime's view. */
export function nodeStatus(
  node: {
    readonly id: NodeId;
    readonly core: RaftCore | null;
    readonly appliedIndex: number;
    readonly running: boolean;
  },
  settings: ClusterSettings,
  gate: Pick<RequestGate, 'addressOf'>,
  counters: NodeCounters,
): NodeStatus {
  const base = node.core?.status() ?? statusBeforeStart(node.id, settings);
  return {
    ...base,
    appliedIndex: node.appliedIndex,
    leaderAddress: base.leaderId === null ? null : gate.addressOf(base.leaderId, node.core),
    running: node.running,
    counters: counters.values(),
  };
}
