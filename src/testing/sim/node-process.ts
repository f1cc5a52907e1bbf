import type { RandomSource } from '../../core/random.js';
import type { NodeId } from '../../core/types.js';
import type { RaftNodeOptions } from '../../node/node-options.js';
import type { NodeStatus } from '../../node/node-status.js';
import { RaftNode } from '../../node/raft-node.js';
import type { SimulatedClock } from '../../node/simulated-clock.js';
import { MemoryStorage } from '../../storage/memory/memory-storage.js';
import type { Message } from '../../transport/transport.js';
import type { ClusterCheckers } from '../checkers/cluster-checkers.js';
import { GatedClock } from './gated-clock.js';
import { GatedTransport, NodeEndpoint } from './gated-transport.js';
import { RecordingStateMachine } from './recording-state-machine.js';
import {
  fastDisk,
  simClusterDefaults,
  type DiskLatency,
  type SimClusterOptions,
} from './sim-options.js';
import { SimStorage } from './sim-storage.js';
import type { SimTraceRecorder } from './sim-trace-recorder.js';

/** How long a gracefully stopped node waits for its proposals to settle, in virtual ms. */
const simStopDrainMs = 100;

/** One life of a node's process, from start to crash or stop. */
export interface Incarnation<Result, Query, Answer> {
  readonly number: number;
  readonly clock: GatedClock;
  readonly transport: GatedTransport;
  readonly storage: SimStorage;
  readonly stateMachine: RecordingStateMachine<Result, Query, Answer>;
  readonly node: RaftNode<Result, Query, Answer>;
  alive: boolean;
  /** Whether the process stopped because a write failed (not a simulator-made crash). */
  storageFailed: boolean;
  /**
   * The status read at the end of the last step that ran this process (null until it started):
   * reading `status()` is not cheap, and no other step can change it.
   */
  observed: ObservedStatus | null;
}

/** The parts of a node's status that the checkers and the trace read. */
export type ObservedStatus = Pick<
  NodeStatus,
  'role' | 'term' | 'commitIndex' | 'lastIndex' | 'configuration'
>;

/** The parts of `status` kept in {@link Incarnation.observed}. */
export function observedStatus(status: ObservedStatus): ObservedStatus {
  const { role, term, commitIndex, lastIndex, configuration } = status;
  return { role, term, commitIndex, lastIndex, configuration };
}

/** A node slot: its disk and its place on the network outlive its processes. */
export interface NodeSlot<Result, Query, Answer> {
  readonly id: NodeId;
  disk: MemoryStorage;
  diskLatency: DiskLatency;
  /** The latency the options gave, to return to after a slow spell. */
  readonly baseDiskLatency: DiskLatency;
  readonly endpoint: NodeEndpoint;
  incarnations: number;
  current: Incarnation<Result, Query, Answer> | null;
  /** How fast the machine's clock runs against simulated time: it outlives processes. */
  readonly clockRate: number;
}

/** A fresh slot for `id`: an empty disk that syncs only when told, and a network endpoint. */
export function createSlot<Result, Query, Answer>(
  id: NodeId,
  endpoint: NodeEndpoint,
  options: Pick<SimClusterOptions<Result, Query, Answer>, 'disk' | 'clockRate'>,
): NodeSlot<Result, Query, Answer> {
  const disk = options.disk;
  return {
    clockRate: options.clockRate?.(id) ?? 1,
    id,
    disk: new MemoryStorage({ manualSync: true }),
    diskLatency: { ...fastDisk, ...disk },
    baseDiskLatency: { ...fastDisk, ...disk },
    endpoint,
    incarnations: 0,
    current: null,
  };
}

/**
 * What a process needs from its cluster: the shared clock and checkers, the seed's random streams,
 * and where to report what the process did. A narrow view, so the process code does not reach
 * into the cluster.
 */
export interface ProcessHost<Result, Query, Answer> {
  readonly options: SimClusterOptions<Result, Query, Answer>;
  readonly ids: readonly NodeId[];
  readonly clock: SimulatedClock;
  readonly checkers: ClusterCheckers;
  readonly trace: SimTraceRecorder;
  readonly diskRandom: RandomSource;
  readonly faultRandom: RandomSource;
  random(purpose: string): RandomSource;
  /** A timer of `nodeId`'s process fired: its code runs in this step. */
  timerFired(nodeId: NodeId, label: string): void;
  /** `nodeId`'s process handled `message`. */
  received(nodeId: NodeId, message: Message): void;
  /** A write of `incarnation` failed like an fsync: the process must stop. */
  writeFailed(incarnation: Incarnation<Result, Query, Answer>): void;
  /** Snapshots taken, sent and installed by every process so far. */
  readonly snapshotCounts: SnapshotCounts;
}

/** How many snapshots the cluster's processes took, sent and installed. */
export interface SnapshotCounts {
  taken: number;
  sent: number;
  installed: number;
}

/** A new process for `slot`: its clock, endpoint, disk, state machine and node, not started. */
export function createIncarnation<Result, Query, Answer>(
  slot: NodeSlot<Result, Query, Answer>,
  host: ProcessHost<Result, Query, Answer>,
): Incarnation<Result, Query, Answer> {
  const nodeId = slot.id;
  const number = ++slot.incarnations;
  const clock = new GatedClock({
    inner: host.clock,
    label: `${nodeId} timer`,
    onFire: (label) => host.timerFired(nodeId, label),
    rate: slot.clockRate,
  });
  const transport = new GatedTransport(slot.endpoint, (message) => host.received(nodeId, message));
  const storage = new SimStorage({
    inner: slot.disk,
    clock,
    hooks: {
      syncDelayMs: () => {
        const { syncDelayMsMin, syncDelayMsMax } = slot.diskLatency;
        return syncDelayMsMin + host.diskRandom() * (syncDelayMsMax - syncDelayMsMin);
      },
      onEntries: (entries, log) => host.checkers.entriesWritten(nodeId, entries, log),
      stepsKeptOnFailure: (pending) => Math.floor(host.faultRandom() * (pending + 1)),
      onWriteFailed: () => host.writeFailed(incarnation),
    },
  });
  const stateMachine = new RecordingStateMachine(
    host.options.stateMachine(nodeId),
    (entry) => {
      if (!incarnation.alive) return;
      host.checkers.entryApplied(nodeId, number, entry);
    },
    ({ index }) => {
      if (!incarnation.alive) return;
      host.checkers.snapshotRestored(nodeId, number, index);
      host.trace.note(nodeId, `restored the snapshot at ${index}`);
    },
  );
  const node = new RaftNode<Result, Query, Answer>(
    simNodeOptions(host, nodeId, number, { storage, transport, stateMachine, clock }),
  );
  const incarnation: Incarnation<Result, Query, Answer> = {
    number,
    clock,
    transport,
    storage,
    stateMachine,
    node,
    alive: true,
    storageFailed: false,
    observed: null,
  };
  watch(slot.id, incarnation, host);
  return incarnation;
}

function simNodeOptions<Result, Query, Answer>(
  host: ProcessHost<Result, Query, Answer>,
  nodeId: NodeId,
  incarnation: number,
  parts: Pick<
    RaftNodeOptions<Result, Query, Answer>,
    'storage' | 'transport' | 'stateMachine' | 'clock'
  >,
): RaftNodeOptions<Result, Query, Answer> {
  const options = host.options;
  const extra = options.nodeOptions?.(nodeId);
  return {
    tickMs: options.tickMs ?? simClusterDefaults.tickMs,
    requestTimeoutMs: options.requestTimeoutMs ?? simClusterDefaults.requestTimeoutMs,
    stopDrainMs: simStopDrainMs,
    ...extra,
    ...parts,
    id: nodeId,
    storage: options.wrapStorage?.(parts.storage, nodeId) ?? parts.storage,
    random: host.random(`election:${nodeId}:${incarnation}`),
    initialConfiguration: host.ids,
    ...(options.settings === undefined ? {} : { initialSettings: options.settings }),
    core: {
      electionTicks: options.electionTicks ?? simClusterDefaults.electionTicks,
      heartbeatTicks: options.heartbeatTicks ?? simClusterDefaults.heartbeatTicks,
      ...extra?.core,
    },
  };
}

/** Subscribes to the node's events for the checkers and the trace. */
function watch<Result, Query, Answer>(
  nodeId: NodeId,
  incarnation: Incarnation<Result, Query, Answer>,
  host: ProcessHost<Result, Query, Answer>,
): void {
  const { node } = incarnation;
  node.on('role', ({ role, previousRole, term }) => {
    if (!incarnation.alive) return;
    if (incarnation.observed !== null) {
      incarnation.observed = { ...incarnation.observed, role, term };
    }
    if (role === 'leader') host.checkers.leaderElected(nodeId, term, incarnation.storage.log);
    else if (previousRole === 'leader') host.checkers.leaderGone(nodeId);
    host.trace.record({
      node: nodeId,
      event: 'role',
      message: `${previousRole} -> ${role} term=${term}`,
    });
  });
  node.on('snapshot', ({ kind, index, bytes, peer }) => {
    if (!incarnation.alive) return;
    host.snapshotCounts[kind]++;
    const peerText = peer === null ? '' : kind === 'sent' ? ` to ${peer}` : ` from ${peer}`;
    host.trace.note(nodeId, `snapshot ${kind} at ${index}${peerText} (${bytes} bytes)`);
  });
  node.on('error', ({ error, fatal }) => {
    if (!fatal || incarnation.storageFailed || !incarnation.alive) return;
    host.checkers.log.report('node-failure', `${nodeId} stopped: ${error.code} ${error.message}`);
  });
}
