import { parseArgs } from 'node:util';
import { RaftError, type ReadConsistency } from 'raftkit';
import { faultKinds, type FaultKind } from './nemesis.js';

/** Everything a chaos run needs; {@link chaosDefaults} fills what the command line leaves out. */
export interface ChaosOptions {
  /** Seconds of workload under faults (start-up, healing and checking come on top). */
  readonly durationS: number;
  readonly seed: number;
  /** Where the history, fault log, server logs and data directories go. */
  readonly out: string;
  readonly servers: number;
  readonly clients: number;
  readonly readModes: readonly ReadConsistency[];
  readonly faults: readonly FaultKind[];
  /** Raft tick of every server; the election timeout is 10–20 ticks. */
  readonly tickMs: number;
  /** Mean pause between one client's operations. */
  readonly thinkMs: number;
  /** Entries applied between two snapshots of a server. */
  readonly snapshotEntries: number;
  /** Entries a server keeps in its log behind a snapshot. */
  readonly snapshotTrailing: number;
  readonly activeKeys: number;
  readonly operationsPerKey: number;
  /** A client request unanswered this long has an unknown outcome. */
  readonly requestTimeoutMs: number;
  /** How long a fault lasts, drawn between these. */
  readonly faultHoldMs: readonly [number, number];
  /** Quiet time between faults, drawn between these. */
  readonly faultGapMs: readonly [number, number];
  /** How long the healed cluster may take to settle before that is a failure. */
  readonly convergeTimeoutS: number;
  /** Time budget of the linearizability check. */
  readonly checkBudgetS: number;
  /** Keep logs and data directories of a passing run too. */
  readonly keep: boolean;
}

/** Defaults, sized for a two-core machine that runs other work too. */
export const chaosDefaults = Object.freeze({
  durationS: 60,
  servers: 5,
  clients: 8,
  readModes: ['linearizable', 'lease'] as readonly ReadConsistency[],
  faults: faultKinds,
  tickMs: 100,
  thinkMs: 40,
  snapshotEntries: 500,
  snapshotTrailing: 100,
  activeKeys: 10,
  operationsPerKey: 60,
  requestTimeoutMs: 6000,
  faultHoldMs: [1000, 4000] as const,
  faultGapMs: [500, 2000] as const,
  convergeTimeoutS: 60,
  checkBudgetS: 120,
  keep: false,
});

/** Limits that keep a run bounded and the cluster meaningful. */
const limits = {
  duration: [1, 7 * 24 * 3600],
  servers: [3, 9],
  clients: [1, 256],
  'tick-ms': [10, 1000],
  'think-ms': [0, 60_000],
  'request-timeout-ms': [100, 600_000],
} as const;

const readModes: readonly ReadConsistency[] = ['linearizable', 'lease', 'stale'];

function invalid(message: string, option: string): RaftError {
  return new RaftError('INVALID_CONFIG', message, { details: { option } });
}

function number(name: keyof typeof limits, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const [low, high] = limits[name];
  if (!Number.isInteger(value) || value < low || value > high) {
    throw invalid(`--${name} must be an integer from ${low} to ${high}, got ${text}`, name);
  }
  return value;
}

function list<T extends string>(
  name: string,
  text: string | undefined,
  allowed: readonly T[],
  fallback: readonly T[],
): readonly T[] {
  if (text === undefined) return fallback;
  const items = text.split(',').filter((item) => item.length > 0);
  const unknown = items.filter((item) => !allowed.includes(item as T));
  if (items.length === 0 || unknown.length > 0) {
    throw invalid(`--${name} takes a comma-separated list of: ${allowed.join(', ')}`, name);
  }
  return items as T[];
}

/** The usage text of `npm run chaos`. */
export const chaosUsage = `usage: npm run chaos -- --duration SECONDS --seed N --out DIR [options]
  --servers N           cluster size (default ${chaosDefaults.servers})
  --clients N           concurrent clients (default ${chaosDefaults.clients})
  --read-modes LIST     read modes the clients use, from ${readModes.join(',')} (default ${chaosDefaults.readModes.join(',')})
  --faults LIST         fault kinds, from ${faultKinds.join(',')} (default all)
  --tick-ms N           Raft tick of the servers (default ${chaosDefaults.tickMs})
  --think-ms N          mean pause between a client's operations (default ${chaosDefaults.thinkMs})
  --request-timeout-ms N  a request unanswered this long has an unknown outcome and the client
                        reconnects to a random server (default ${chaosDefaults.requestTimeoutMs})
  --keep                keep logs and data directories of a passing run`;

/** Parses the command line; throws `INVALID_CONFIG` with a clear message for bad input. */
export function parseChaosOptions(argv: readonly string[]): ChaosOptions {
  const values = parseFlags(argv);
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw invalid(`--seed must be a non-negative integer, got ${values.seed}`, 'seed');
  }
  return {
    ...chaosDefaults,
    durationS: number('duration', values.duration, chaosDefaults.durationS),
    seed,
    out: values.out ?? `chaos-runs/seed-${seed}`,
    servers: number('servers', values.servers, chaosDefaults.servers),
    clients: number('clients', values.clients, chaosDefaults.clients),
    readModes: list('read-modes', values['read-modes'], readModes, chaosDefaults.readModes),
    faults: list('faults', values.faults, faultKinds, chaosDefaults.faults),
    tickMs: number('tick-ms', values['tick-ms'], chaosDefaults.tickMs),
    thinkMs: number('think-ms', values['think-ms'], chaosDefaults.thinkMs),
    requestTimeoutMs: number(
      'request-timeout-ms',
      values['request-timeout-ms'],
      chaosDefaults.requestTimeoutMs,
    ),
    keep: values.keep,
  };
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        duration: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        servers: { type: 'string' },
        clients: { type: 'string' },
        'read-modes': { type: 'string' },
        faults: { type: 'string' },
        'tick-ms': { type: 'string' },
        'think-ms': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        keep: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    // Unknown flags and missing values come from parseArgs as plain errors; make them ours.
    throw new RaftError('INVALID_CONFIG', error instanceof Error ? error.message : String(error), {
      cause: error,
      details: { option: 'argv' },
    });
  }
}

/** The command that runs the same plan again (timing on real processes differs run to run). */
export function replayCommand(options: ChaosOptions): string {
  const parts = [
    'npm run chaos --',
    `--duration ${options.durationS}`,
    `--seed ${options.seed}`,
    `--out ${options.out}-replay`,
    `--servers ${options.servers}`,
    `--clients ${options.clients}`,
    `--read-modes ${options.readModes.join(',')}`,
    `--faults ${options.faults.join(',')}`,
    `--tick-ms ${options.tickMs}`,
    `--think-ms ${options.thinkMs}`,
    `--request-timeout-ms ${options.requestTimeoutMs}`,
  ];
  return parts.join(' ');
}
