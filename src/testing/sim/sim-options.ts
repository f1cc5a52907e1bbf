import type { ClusterSettings, NodeId } from '../../core/types.js';
import type { RaftNodeOptions } from '../../node/node-options.js';
import type { StateMachine } from '../../node/state-machine.js';
import type { LogStorage } from '../../storage/log-storage.js';
import type { MessageInterceptor, NetworkFaults } from '../../transport/in-process/index.js';
import type { Tracer } from '../trace/tracer.js';

/** How fast each node's disk makes writes durable, in virtual milliseconds. */
export interface DiskLatency {
  /** Shortest delay between issuing a write and its sync. */
  readonly syncDelayMsMin: number;
  /** Longest delay; a slow disk has a large one. */
  readonly syncDelayMsMax: number;
}

/** A disk that keeps up: writes become durable within a millisecond. */
export const fastDisk: DiskLatency = Object.freeze({ syncDelayMsMin: 0, syncDelayMsMax: 1 });

/** Options of {@link SimCluster}. */
export interface SimClusterOptions<Result = unknown, Query = unknown, Answer = unknown> {
  /** Every random decision of the run derives from it: the same seed replays the same run. */
  readonly seed: number;
  /** How many nodes (named n1, n2, …) or their ids. Default 3. */
  readonly nodes?: number | readonly NodeId[];
  /**
   * Creates the state machine of a node's process; called again on every restart, so an in-memory
   * state machine starts empty and is rebuilt from the log, as it would be in a real process.
   */
  readonly stateMachine: (nodeId: NodeId) => StateMachine<Result, Query, Answer>;
  /** Virtual milliseconds per tick. Default 10. */
  readonly tickMs?: number;
  /** Ticks without a leader before campaigning (randomized up to twice as many). Default 10. */
  readonly electionTicks?: number;
  /** Ticks between heartbeats. Default 2. */
  readonly heartbeatTicks?: number;
  /** Cluster-wide settings on first boot (PreVote and CheckQuorum are on by default). */
  readonly settings?: Partial<ClusterSettings>;
  /** Random network faults from the start; a perfect network by default. */
  readonly network?: Partial<NetworkFaults>;
  /** Disk latency of every node; {@link fastDisk} by default. */
  readonly disk?: Partial<DiskLatency>;
  /**
   * Whether messages in flight to a node when its process crashes can still reach the process
   * that restarts there (datagrams, queues). Default false: a crash loses them (connections).
   */
  readonly inFlightSurvivesCrash?: boolean;
  /**
   * How fast each node's clock runs against simulated time (1 = exact, 1.02 = 2% fast), for clock
   * drift. Called once per node; every process of the node uses its rate. Default: all exact.
   */
  readonly clockRate?: (nodeId: NodeId) => number;
  /** Deadline of a client request in virtual milliseconds. Default 1,000. */
  readonly requestTimeoutMs?: number;
  /**
   * Wraps each node's storage, for tests that model a buggy storage adapter. Called on every
   * (re)start with the simulator's storage.
   */
  readonly wrapStorage?: (storage: LogStorage, nodeId: NodeId) => LogStorage;
  /** Sees (and may change or drop) every message as it is sent, for tests that model bugs. */
  readonly interceptor?: MessageInterceptor;
  /** Receives the trace; by default a tracer keeping the last 2,000 rows. `null` records none. */
  readonly tracer?: Tracer | null;
  /** More node options (for example `forwardProposals`), per node. */
  readonly nodeOptions?: (
    nodeId: NodeId,
  ) => Partial<Omit<RaftNodeOptions<Result, Query, Answer>, SimOwnedNodeOption>>;
}

/** Node options the simulator sets itself. */
export type SimOwnedNodeOption =
  'id' | 'storage' | 'transport' | 'stateMachine' | 'clock' | 'random' | 'initialConfiguration';

/** Defaults of {@link SimClusterOptions}. */
export const simClusterDefaults = Object.freeze({
  nodes: 3,
  tickMs: 10,
  electionTicks: 10,
  heartbeatTicks: 2,
  requestTimeoutMs: 1000,
  traceRowsMax: 2000,
});

/** Options of {@link SimCluster.crash}. */
export interface CrashOptions {
  /**
   * How many pending (unsynced) write steps reach the disk anyway: 0 (default) loses them all, a
   * number keeps that prefix (a torn tail), `'random'` draws it from the seed.
   */
  readonly pendingStepsKept?: number | 'random';
}

/** Options of {@link SimCluster.runUntil}. */
export interface RunUntilOptions {
  /** Virtual time after which to give up with `TIMEOUT`. Default 10,000 ms. */
  readonly timeMsMax?: number;
  /** Steps after which to give up with `TIMEOUT`. Default 1,000,000. */
  readonly stepsMax?: number;
}

/** Defaults of {@link RunUntilOptions}. */
export const runUntilDefaults = Object.freeze({ timeMsMax: 10_000, stepsMax: 1_000_000 });
