import { RaftError } from './errors.js';
import { hashString, seededRandom, type RandomSource } from './random.js';
import type { NodeId } from './types.js';
import type { CoreTraceEvent } from './trace-event.js';

/** Options of one core. Every bound is named here; none is hidden in the code. */
export interface RaftCoreOptions {
  readonly id: NodeId;
  /** Ticks without hearing from a leader before campaigning; randomized in [n, 2n). */
  readonly electionTicks?: number;
  /** Ticks between a leader's heartbeats. Must be below `electionTicks`. */
  readonly heartbeatTicks?: number;
  /** Append messages to one follower that may be unacknowledged at once. */
  readonly inflightMessagesMax?: number;
  /** Entry bytes to one follower that may be unacknowledged at once. */
  readonly inflightBytesMax?: number;
  /** Entries in one append message. */
  readonly entriesPerMessageMax?: number;
  /** Entry bytes in one append message (a single larger entry still travels alone). */
  readonly messageBytesMax?: number;
  /** Bytes of proposed but uncommitted commands the leader accepts before refusing proposals. */
  readonly uncommittedBytesMax?: number;
  /** Committed entries handed to the application in one `Ready`. */
  readonly applyEntriesMax?: number;
  /** Linearizable reads the leader confirms at once; beyond it reads are refused with `BUSY`. */
  readonly pendingReadsMax?: number;
  /**
   * How many ticks any server's clock may gain on the leader's over one election timeout. The
   * leader's lease (reads without a heartbeat round) is shortened by this much; 0 trusts the
   * clocks to run at the same rate. Must leave a lease of at least one tick:
   * `clockDriftBoundTicks <= electionTicks - 2`. Default 1.
   */
  readonly clockDriftBoundTicks?: number;
  /** The index the state machine has applied (after a restart); those entries are not re-applied. */
  readonly applied?: number;
  /**
   * Ticks known to have passed, before this core was made, since the server last sent anything.
   * A restarted server refuses votes until an election timeout has passed since it may last have
   * acknowledged a leader (that leader may hold a lease on it); the runtime counts the time it
   * spent opening storage and restoring (or, when storage knows, since the previous incarnation
   * stopped cleanly), which this server spent silent, toward that wait. With PreVote on, the same
   * ticks count toward its election timeout, up to one tick short of `electionTicks`. Default 0.
   */
  readonly silentTicks?: number;
  /** Randomness for election jitter. Defaults to a generator seeded from the id. */
  readonly random?: RandomSource;
  /** Receives one event per notable step, for tests, traces and logs. */
  readonly tracer?: (event: CoreTraceEvent) => void;
}

/** Options with every default filled in. */
export interface ResolvedCoreOptions {
  readonly id: NodeId;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
  readonly entriesPerMessageMax: number;
  readonly messageBytesMax: number;
  readonly uncommittedBytesMax: number;
  readonly applyEntriesMax: number;
  readonly pendingReadsMax: number;
  readonly clockDriftBoundTicks: number;
  readonly applied: number;
  readonly silentTicks: number;
  readonly random: RandomSource;
  readonly tracer: ((event: CoreTraceEvent) => void) | null;
}

/** The defaults, chosen for a LAN cluster ticking every 100 ms (1 s election timeout). */
export const coreDefaults = Object.freeze({
  electionTicks: 10,
  heartbeatTicks: 1,
  inflightMessagesMax: 256,
  inflightBytesMax: 32 * 1024 * 1024,
  entriesPerMessageMax: 1024,
  messageBytesMax: 1024 * 1024,
  uncommittedBytesMax: 64 * 1024 * 1024,
  applyEntriesMax: 4096,
  pendingReadsMax: 10_000,
  /** One tick: a 1 s election timeout allows 100 ms of drift. Zero is allowed (trusted clocks). */
  clockDriftBoundTicks: 1,
});

/**
 * Returns `value` if it is a positive safe integer; otherwise throws `INVALID_CONFIG` naming the
 * option. The one check every adapter and the runtime use for their numeric limits.
 */
export function positiveIntegerOption(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RaftError('INVALID_CONFIG', `${name} must be a positive integer, got ${value}`, {
      details: { option: name, value },
    });
  }
  return value;
}

/** The limits that must be positive integers (the drift bound may be zero). */
type LimitName = Exclude<keyof typeof coreDefaults, 'clockDriftBoundTicks'>;

/** Fills defaults and rejects nonsense with `INVALID_CONFIG`. */
export function resolveCoreOptions(options: RaftCoreOptions): ResolvedCoreOptions {
  if (typeof options.id !== 'string' || options.id.length === 0) {
    throw new RaftError('INVALID_CONFIG', 'id must be a non-empty string', {
      details: { option: 'id' },
    });
  }
  const limits = {} as Record<LimitName, number>;
  const names = Object.keys(coreDefaults).filter((name) => name !== 'clockDriftBoundTicks');
  for (const name of names as LimitName[]) {
    limits[name] = positiveIntegerOption(name, options[name] ?? coreDefaults[name]);
  }
  if (limits.electionTicks <= limits.heartbeatTicks) {
    throw new RaftError(
      'INVALID_CONFIG',
      `electionTicks (${limits.electionTicks}) must be above heartbeatTicks (${limits.heartbeatTicks}), or followers time out between heartbeats`,
      { details: { option: 'electionTicks' } },
    );
  }
  const clockDriftBoundTicks = resolveClockDriftBound(options, limits.electionTicks);
  const [applied, silentTicks] = (['applied', 'silentTicks'] as const).map((option) => {
    const value = options[option] ?? 0;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RaftError(
        'INVALID_CONFIG',
        `${option} must be a non-negative integer, got ${value}`,
        { details: { option } },
      );
    }
    return value;
  }) as [number, number];
  return {
    id: options.id,
    ...limits,
    clockDriftBoundTicks,
    applied,
    silentTicks,
    random: options.random ?? seededRandom(hashString(options.id)),
    tracer: options.tracer ?? null,
  };
}

function resolveClockDriftBound(options: RaftCoreOptions, electionTicks: number): number {
  const value = options.clockDriftBoundTicks ?? coreDefaults.clockDriftBoundTicks;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RaftError(
      'INVALID_CONFIG',
      `clockDriftBoundTicks must be a non-negative integer, got ${value}`,
      { details: { option: 'clockDriftBoundTicks', value } },
    );
  }
  // One tick of the election timeout is lost to tick granularity (see lease.ts).
  if (electionTicks - 1 - value < 1) {
    throw new RaftError(
      'INVALID_CONFIG',
      `clockDriftBoundTicks (${value}) leaves no lease: it must be at most electionTicks - 2 (${electionTicks - 2})`,
      { details: { option: 'clockDriftBoundTicks', value } },
    );
  }
  return value;
}
