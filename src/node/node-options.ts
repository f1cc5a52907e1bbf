import {
  RaftError,
  resolveCoreOptions,
  configurationOf,
  clusterSettingsDefaults,
  validateConfiguration,
  type ClusterSettings,
  type Configuration,
  type NodeId,
  type RaftCoreOptions,
} from '../core/index.js';
import type { LogStorage } from '../storage/log-storage.js';
import type { Transport } from '../transport/transport.js';
import type { Clock } from '../platform/clock.js';
import type { JoinOptions } from './join.js';
import type { SessionLimits } from './session-envelope.js';
import type { ResultCodec, StateMachine } from './state-machine.js';

/** How to build a {@link RaftNode}. */
export interface RaftNodeOptions<Result = unknown, Query = unknown, Answer = unknown> {
  /** This server's id; stable for its lifetime. */
  readonly id: NodeId;
  readonly storage: LogStorage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<Result, Query, Answer>;
  /**
   * The cluster to form on first boot: voter ids, or a full configuration (with learners and
   * addresses). Ignored once storage holds state — the logged configuration wins. Omit it on a
   * server that will be added to an existing cluster.
   */
  readonly initialConfiguration?: readonly NodeId[] | Configuration;
  /**
   * Join an existing cluster instead of forming one: on first boot (empty storage) the node asks
   * one of `contacts` about the cluster before it starts, learns the leader and configuration,
   * and waits to be added. A server that is a voter already is refused with `DATA_LOST` (it lost
   * its disk). Excludes `initialConfiguration`: bootstrapping and joining are distinct modes.
   */
  readonly join?: JoinOptions;
  /** Rounds of one election timeout a learner gets to catch up before promotion fails. Default 10. */
  readonly catchUpRoundsMax?: number;
  /** Default deadline of a membership change, catch-up included. Default 60 s. */
  readonly membershipTimeoutMs?: number;
  /** Cluster-wide settings for first boot; later they change only through `updateSettings`. */
  readonly initialSettings?: Partial<ClusterSettings>;
  /** Milliseconds per core tick. Election timeout = `tickMs * electionTicks`. Default 100. */
  readonly tickMs?: number;
  /** Core tuning: election and heartbeat ticks and the replication limits. */
  readonly core?: Omit<RaftCoreOptions, 'id' | 'applied' | 'random' | 'tracer'>;
  /**
   * How far any server's clock may run ahead of the leader's over one election timeout, in
   * milliseconds. Lease reads stop this much earlier (see docs/runtime.md); converted to whole
   * ticks, rounding up. Must leave a lease of at least one tick. Default: one tick.
   */
  readonly clockDriftBoundMs?: number;
  /** Defaults to the real clock; tests and the simulator pass a simulated one. */
  readonly clock?: Clock;
  /**
   * Randomness for election jitter, and for where forwarded-request ids and read contexts start,
   * which keeps them apart from those of this server's earlier processes. Defaults to
   * `Math.random`. A seeded source (for reproducible tests) must be seeded differently for every
   * start of the same server, or a reply delayed across a restart could be taken for a new one.
   */
  readonly random?: () => number;
  /**
   * On a follower, send proposals to the leader and return its result, instead of rejecting with
   * `NOT_LEADER`. Default false.
   */
  readonly forwardProposals?: boolean;
  /** Turns results into bytes for forwarded proposals. Default: JSON. */
  readonly resultCodec?: ResultCodec<Result>;
  /**
   * Declares that applying a command twice has the same effect as once, so a failed apply may be
   * retried. Without it a failed apply stops the node with `APPLY_FAILED` and marks storage broken.
   */
  readonly idempotentCommands?: boolean;
  /** Attempts of a failing idempotent apply before giving up. Default 5. */
  readonly applyAttemptsMax?: number;
  /** Wait between apply attempts, doubled each time. Default 10 ms. */
  readonly applyRetryDelayMs?: number;
  /** Default deadline of `propose` and `read` when the caller gives none. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Proposals and reads waiting at once; beyond it calls reject with `BUSY`. Default 100,000. */
  readonly pendingRequestsMax?: number;
  /** Commands gathered into one log append. Default 4,096. */
  readonly proposalBatchMax?: number;
  /** How long `stop` waits for proposals already in the log to settle. Default 2 s. */
  readonly stopDrainMs?: number;
  /**
   * Snapshot and compaction policy. A snapshot is taken once this many entries, or this many
   * command bytes, were applied since the last one; the log then keeps a trailing window so a
   * follower that lags a little catches up from the log rather than by snapshot.
   */
  readonly snapshots?: Partial<SnapshotOptions>;
  /** Maps a node id to an address for `NOT_LEADER` redirects when the configuration has none. */
  readonly addressOf?: (id: NodeId) => string | null;
  /**
   * Limits of the client sessions this server registers while it leads (docs/sessions.md). Each
   * registration carries them in the log, so every server applies the same ones.
   */
  readonly sessions?: Partial<SessionLimits>;
  /**
   * Wall-clock milliseconds, comparable between servers: a leader stamps it into session entries
   * and sessions expire by that log time, never by a server's own clock. Default `Date.now` with
   * the real clock, and the injected clock's `now` with an injected one (a simulated cluster).
   */
  readonly wallClock?: () => number;
}

/** The session limits a leader writes into registrations unless the options say otherwise. */
export const sessionDefaults: SessionLimits = Object.freeze({
  timeoutMs: 5 * 60 * 1000,
  resultsMax: 1024,
  sessionsMax: 4096,
});

/** When snapshots are taken and how they travel. */
export interface SnapshotOptions {
  /** Entries applied since the last snapshot that trigger the next one. Default 50,000. */
  readonly entriesMax: number;
  /** Command bytes applied since the last snapshot that trigger the next one. Default 32 MiB. */
  readonly bytesMax: number;
  /** Entries kept in the log behind a snapshot, for slightly lagging followers. Default 5,000. */
  readonly trailingEntries: number;
  /**
   * At most this many command bytes in that window: an entry can carry many commands (a batch
   * of writes, up to the codec's frame limit), and 5,000 large entries would hold gigabytes.
   * Default 4 MiB.
   */
  readonly trailingBytes: number;
  /** Bytes of snapshot data per InstallSnapshot chunk. Default 512 KiB. */
  readonly chunkBytes: number;
  /** Chunks sent to one follower and not yet acknowledged. Default 4. */
  readonly chunksInflightMax: number;
  /** Without an acknowledgement for this long, unacknowledged chunks are sent again. Default 2 s. */
  readonly chunkTimeoutMs: number;
  /** Consecutive timeouts after which a transfer is given up (and later started again). Default 5. */
  readonly timeoutsMax: number;
  /**
   * Entries applied since the last snapshot for a graceful `stop()` to take one, so the next start
   * restores it instead of replaying them. Default 1,000; 0 takes one whenever anything is new.
   */
  readonly stopEntriesMin: number;
}

/** The snapshot defaults: the log on disk stays within tens of MB without anyone tuning it. */
export const snapshotDefaults: SnapshotOptions = Object.freeze({
  entriesMax: 50_000,
  bytesMax: 32 * 1024 * 1024,
  trailingEntries: 5_000,
  trailingBytes: 4 * 1024 * 1024,
  chunkBytes: 512 * 1024,
  chunksInflightMax: 4,
  chunkTimeoutMs: 2_000,
  timeoutsMax: 5,
  stopEntriesMin: 1_000,
});

/** Every option with its default filled in. */
export interface ResolvedNodeOptions<Result, Query, Answer> extends Required<
  Omit<
    RaftNodeOptions<Result, Query, Answer>,
    | 'initialConfiguration'
    | 'initialSettings'
    | 'core'
    | 'addressOf'
    | 'clockDriftBoundMs'
    | 'snapshots'
    | 'join'
    | 'sessions'
  >
> {
  readonly snapshots: SnapshotOptions;
  readonly sessions: SessionLimits;
  readonly initialConfiguration: Configuration | null;
  readonly initialSettings: ClusterSettings;
  readonly core: Omit<RaftCoreOptions, 'id' | 'applied' | 'random' | 'tracer'>;
  readonly addressOf: (id: NodeId) => string | null;
  readonly join: JoinOptions | null;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RaftError('INVALID_CONFIG', `${name} must be a positive number, got ${value}`, {
      details: { option: name },
    });
  }
  return value;
}

/** Fills defaults and rejects nonsense with `INVALID_CONFIG` before anything starts. */
export function resolveNodeOptions<Result, Query, Answer>(
  options: RaftNodeOptions<Result, Query, Answer>,
  realClock: Clock,
  jsonCodec: ResultCodec<unknown>,
): ResolvedNodeOptions<Result, Query, Answer> {
  for (const name of ['storage', 'transport', 'stateMachine'] as const) {
    if (options[name] === undefined || options[name] === null) {
      throw new RaftError('INVALID_CONFIG', `${name} is required`, { details: { option: name } });
    }
  }
  let initialConfiguration: Configuration | null = null;
  if (options.initialConfiguration !== undefined) {
    initialConfiguration = isIdList(options.initialConfiguration)
      ? configurationOf(options.initialConfiguration)
      : options.initialConfiguration;
    validateConfiguration(initialConfiguration);
    const members = [...initialConfiguration.voters, ...initialConfiguration.learners];
    if (!members.includes(options.id)) {
      throw new RaftError(
        'INVALID_CONFIG',
        `initialConfiguration does not include this node (${options.id})`,
        { details: { option: 'initialConfiguration' } },
      );
    }
  }
  const tickMs = positive('tickMs', options.tickMs ?? 100);
  if (options.join !== undefined && initialConfiguration !== null) {
    throw new RaftError(
      'INVALID_CONFIG',
      'initialConfiguration bootstraps a new cluster and join joins an existing one: give one',
      { details: { option: 'join' } },
    );
  }
  return {
    id: options.id,
    join: options.join ?? null,
    catchUpRoundsMax: positive('catchUpRoundsMax', options.catchUpRoundsMax ?? 10),
    membershipTimeoutMs: positive('membershipTimeoutMs', options.membershipTimeoutMs ?? 60_000),
    storage: options.storage,
    transport: options.transport,
    stateMachine: options.stateMachine,
    initialConfiguration,
    initialSettings: { ...clusterSettingsDefaults, ...options.initialSettings },
    tickMs,
    core: resolveCore(options, tickMs),
    clock: options.clock ?? realClock,
    random: options.random ?? Math.random,
    forwardProposals: options.forwardProposals ?? false,
    resultCodec: options.resultCodec ?? (jsonCodec as ResultCodec<Result>),
    idempotentCommands: options.idempotentCommands ?? false,
    applyAttemptsMax: positive('applyAttemptsMax', options.applyAttemptsMax ?? 5),
    applyRetryDelayMs: positive('applyRetryDelayMs', options.applyRetryDelayMs ?? 10),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? 10_000),
    pendingRequestsMax: positive('pendingRequestsMax', options.pendingRequestsMax ?? 100_000),
    proposalBatchMax: positive('proposalBatchMax', options.proposalBatchMax ?? 4096),
    stopDrainMs: positive('stopDrainMs', options.stopDrainMs ?? 2000),
    addressOf: options.addressOf ?? (() => null),
    snapshots: resolveSnapshotOptions(options.snapshots ?? {}),
    sessions: resolveSessionLimits(options.sessions ?? {}),
    wallClock: options.wallClock ?? wallClockFor(options.clock),
  };
}

function wallClockFor(clock: Clock | undefined): () => number {
  return clock === undefined ? Date.now : () => clock.now();
}

function resolveSessionLimits(options: Partial<SessionLimits>): SessionLimits {
  const resolved = { ...sessionDefaults };
  for (const name of Object.keys(sessionDefaults) as (keyof SessionLimits)[]) {
    const value = options[name] ?? sessionDefaults[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RaftError('INVALID_CONFIG', `sessions.${name} must be a positive integer`, {
        details: { option: `sessions.${name}`, value },
      });
    }
    resolved[name] = value;
  }
  return resolved;
}

function isIdList(value: readonly NodeId[] | Configuration): value is readonly NodeId[] {
  return Array.isArray(value);
}

/** Snapshot options for which 0 means "none" rather than a mistake. */
const zeroAllowed: ReadonlySet<keyof SnapshotOptions> = new Set([
  'trailingEntries',
  'trailingBytes',
  'stopEntriesMin',
]);

function resolveSnapshotOptions(options: Partial<SnapshotOptions>): SnapshotOptions {
  const resolved = { ...snapshotDefaults };
  for (const name of Object.keys(snapshotDefaults) as (keyof SnapshotOptions)[]) {
    const value = options[name] ?? snapshotDefaults[name];
    if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroAllowed.has(name))) {
      throw new RaftError('INVALID_CONFIG', `snapshots.${name} must be a positive integer`, {
        details: { option: `snapshots.${name}`, value },
      });
    }
    resolved[name] = value;
  }
  // A chunk travels in one message: the codec refuses frames over 16 MiB.
  if (resolved.chunkBytes > 8 * 1024 * 1024) {
    throw new RaftError('INVALID_CONFIG', 'snapshots.chunkBytes must be at most 8 MiB', {
      details: { option: 'snapshots.chunkBytes', value: resolved.chunkBytes },
    });
  }
  return resolved;
}

/** The core options with the drift bound in ticks; checked now, so a bad value fails at once. */
function resolveCore<Result, Query, Answer>(
  options: RaftNodeOptions<Result, Query, Answer>,
  tickMs: number,
): Omit<RaftCoreOptions, 'id' | 'applied' | 'random' | 'tracer'> {
  const core = options.core ?? {};
  const driftMs = options.clockDriftBoundMs;
  if (driftMs === undefined) return core;
  if (!Number.isFinite(driftMs) || driftMs < 0) {
    throw new RaftError(
      'INVALID_CONFIG',
      `clockDriftBoundMs must be a non-negative number, got ${driftMs}`,
      {
        details: { option: 'clockDriftBoundMs' },
      },
    );
  }
  if (core.clockDriftBoundTicks !== undefined) {
    throw new RaftError(
      'INVALID_CONFIG',
      'set clockDriftBoundMs or core.clockDriftBoundTicks, not both',
      {
        details: { option: 'clockDriftBoundMs' },
      },
    );
  }
  const resolved = { ...core, clockDriftBoundTicks: Math.ceil(driftMs / tickMs) };
  resolveCoreOptions({ ...resolved, id: options.id });
  return resolved;
}
