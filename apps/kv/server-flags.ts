import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { snapshotDefaults, type LogLevel, type ReadConsistency } from 'raftkit';
import type { Discovery } from 'raftkit/discovery';
import type { TcpTlsOptions } from 'raftkit/transport/tcp';
import { DnsDiscovery, StaticDiscovery } from 'raftkit/discovery';
import {
  layoutMembersMax,
  readClusterLayout,
  splitHostPort,
  type ClusterLayout,
} from './cluster-layout.js';

/** A server command line that cannot run; printed with the flags, exit status 2. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
  readonly code = 'USAGE';
}

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly placeholder?: string;
  readonly description: string;
}

/**
 * Every flag of the server. Each is also read from the environment as `RAFTKIT_` and its name in
 * upper case with `_` for `-` (`--raft-port` ↔ `RAFTKIT_RAFT_PORT`); the command line wins.
 */
export const serverFlags = {
  // Ordered as the help lists them: identity, members and addresses, security, behaviour.
  id: { type: 'string', placeholder: '<id>', description: "this server's id (required)" },
  dir: { type: 'string', placeholder: '<path>', description: 'data directory (required)' },
  layout: {
    type: 'string',
    placeholder: '<file>',
    description: 'cluster.json listing every member (local clusters)',
  },
  members: {
    type: 'string',
    placeholder: '<id,id,…>',
    description: 'the initial voters, when there is no layout file',
  },
  'host-template': {
    type: 'string',
    placeholder: '<template>',
    description: "a member's advertised host, {id} replaced (default {id})",
  },
  'cluster-id': { type: 'string', placeholder: '<name>', description: 'cluster name (raftkit-kv)' },
  'raft-port': { type: 'string', placeholder: '<port>', description: 'Raft port (7000)' },
  'client-port': { type: 'string', placeholder: '<port>', description: 'Redis port (6379)' },
  'http-port': { type: 'string', placeholder: '<port>', description: 'HTTP port (8080)' },
  'bind-host': {
    type: 'string',
    placeholder: '<host>',
    description: 'host every listener binds (default: the advertised host; 0.0.0.0 without layout)',
  },
  'raft-bind': { type: 'string', placeholder: '<host:port>', description: 'Raft listener' },
  'client-bind': { type: 'string', placeholder: '<host:port>', description: 'Redis listener' },
  'http-bind': { type: 'string', placeholder: '<host:port>', description: 'HTTP listener' },
  'discovery-srv': {
    type: 'string',
    placeholder: '<name>',
    description: 'find peers through this DNS SRV name instead of the member list',
  },
  secret: { type: 'string', placeholder: '<secret>', description: 'Raft shared secret' },
  'secret-file': {
    type: 'string',
    placeholder: '<file>',
    description: 'file holding the Raft shared secret',
  },
  'tls-key': { type: 'string', placeholder: '<file>', description: 'mutual TLS: key (PEM)' },
  'tls-cert': { type: 'string', placeholder: '<file>', description: 'mutual TLS: certificate' },
  'tls-ca': { type: 'string', placeholder: '<file>', description: 'mutual TLS: CA certificate' },
  insecure: {
    type: 'boolean',
    description: 'allow an unauthenticated Raft port on a non-loopback address',
  },
  consistency: {
    type: 'string',
    placeholder: 'linearizable|lease|stale',
    description: 'default read consistency (linearizable)',
  },
  'tick-ms': { type: 'string', placeholder: '<ms>', description: 'Raft tick (100)' },
  'snapshot-entries': {
    type: 'string',
    placeholder: '<count>',
    description: 'entries applied since the last snapshot that trigger the next one (50000)',
  },
  'snapshot-trailing': {
    type: 'string',
    placeholder: '<count>',
    description: 'entries kept in the log behind a snapshot for lagging followers (5000)',
  },
  'log-format': { type: 'string', placeholder: 'text|json', description: 'log lines (text)' },
  'log-level': {
    type: 'string',
    placeholder: 'debug|info|warn|error',
    description: 'least severe level written (info)',
  },
  password: {
    type: 'string',
    placeholder: '<password>',
    description: 'clients must AUTH with it first (Redis requirepass)',
  },
  maxclients: {
    type: 'string',
    placeholder: '<count>',
    description: 'client connections held at once (10000)',
  },
  timeout: {
    type: 'string',
    placeholder: '<seconds>',
    description: 'close client connections idle this long (0: never)',
  },
  'proto-max-bulk-len': {
    type: 'string',
    placeholder: '<bytes>',
    description: 'largest client request (524288)',
  },
  join: {
    type: 'boolean',
    description: 'with empty storage, join the running cluster instead of forming a new one',
  },
  'fault-injection': {
    type: 'boolean',
    description: 'accept RAFT PARTITION and HEAL (local clusters and their dashboard only)',
  },
  'exit-with-parent': {
    type: 'boolean',
    description: 'stop when the launching process goes away (local clusters)',
  },
  help: { type: 'boolean', description: 'show the flags' },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof serverFlags;
/** Flag values by name, from the command line or the environment. */
export type FlagValues = Partial<Record<FlagName, string | boolean>>;

/** The environment variable of a flag. */
export function environmentName(flag: string): string {
  return 'RAFTKIT_' + flag.toUpperCase().replaceAll('-', '_');
}

/** The flags as help text, with their environment variables. */
export function formatServerFlags(): string {
  const lines = [
    'usage: raftkit-kv --id <id> --dir <path> (--layout <file> | --members <ids>)',
    '',
  ];
  for (const [name, spec] of Object.entries(serverFlags) as [FlagName, FlagSpec][]) {
    const flag = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.placeholder}`;
    const variable = name === 'help' ? '' : environmentName(name);
    lines.push(`  ${flag.padEnd(38)} ${variable.padEnd(26)} ${spec.description}`);
  }
  return lines.join('\n');
}

/** Everything a server needs to start, checked. */
export interface ServerConfig {
  readonly id: string;
  readonly directory: string;
  /** Advertised addresses of every member. */
  readonly layout: ClusterLayout;
  /** The `--layout` file, read again after membership changes; `null` with `--members`. */
  readonly layoutFile: string | null;
  /** With empty storage: join the running cluster (`--join`) rather than bootstrap a new one. */
  readonly join: boolean;
  /** Where this server's listeners bind. */
  readonly bind: { readonly raft: string; readonly client: string; readonly http: string };
  readonly discovery: Discovery;
  /** `null`: the Raft port is not authenticated (loopback or `--insecure`). */
  readonly secret: string | null;
  readonly tls: TcpTlsOptions | null;
  readonly consistency: ReadConsistency;
  readonly tickMs: number;
  /** When this server snapshots and how much log it keeps behind a snapshot. */
  readonly snapshots: { readonly entriesMax: number; readonly trailingEntries: number };
  readonly logFormat: 'text' | 'json';
  readonly logLevel: LogLevel;
  readonly exitWithParent: boolean;
  /** Clients' password, or `null` for none. */
  readonly password: string | null;
  /** Client connection limits (Redis's `maxclients`, `timeout`, `proto-max-bulk-len`). */
  readonly connectionsMax: number;
  readonly idleTimeoutMs: number;
  readonly requestBytesMax: number;
  readonly faultInjection: boolean;
}

/** Reads the flags, then the environment for any flag not given; throws {@link FlagError}. */
export function readFlags(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
): FlagValues {
  let values: FlagValues;
  try {
    values = parseArgs({ args: [...argv], options: serverFlags, strict: true }).values;
  } catch (error) {
    throw new FlagError(error instanceof Error ? error.message : String(error));
  }
  const merged: FlagValues = { ...values };
  for (const [name, spec] of Object.entries(serverFlags) as [FlagName, FlagSpec][]) {
    // Help is asked for on the command line only.
    if (name === 'help') continue;
    const raw = environment[environmentName(name)];
    if (merged[name] !== undefined || raw === undefined || raw === '') continue;
    if (spec.type === 'string') {
      merged[name] = raw;
    } else if (raw === 'true' || raw === '1') {
      merged[name] = true;
    } else if (raw === 'false' || raw === '0') {
      merged[name] = false;
    } else {
      throw new FlagError(`${environmentName(name)} must be true, false, 1 or 0; got '${raw}'`);
    }
  }
  return merged;
}

function text(values: FlagValues, name: FlagName): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function port(values: FlagValues, name: FlagName, fallback: number): number {
  const raw = text(values, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new FlagError(`--${name} must be a port from 1 to 65535, got '${raw}'`);
  }
  return value;
}

function choice<Choice extends string>(
  values: FlagValues,
  name: FlagName,
  choices: readonly Choice[],
  fallback: Choice,
): Choice {
  const raw = text(values, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new FlagError(`--${name} must be ${choices.join(', ')}; got '${raw}'`);
  }
  return raw as Choice;
}

function readText(path: string, flag: FlagName): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new FlagError(
      `--${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The layout: from `--layout`, or built from `--members` and the host template and ports. */
function layoutOf(values: FlagValues): ClusterLayout {
  const file = text(values, 'layout');
  const ids = text(values, 'members');
  if (file !== undefined && ids !== undefined) {
    throw new FlagError('give --layout or --members, not both');
  }
  if (file !== undefined) {
    try {
      return readClusterLayout(file);
    } catch (error) {
      throw new FlagError(error instanceof Error ? error.message : String(error));
    }
  }
  if (ids === undefined) throw new FlagError('--layout or --members is required');
  const members = ids.split(',').map((id) => id.trim());
  if (members.some((id) => id.length === 0) || new Set(members).size !== members.length) {
    throw new FlagError(`--members must list distinct ids separated by commas, got '${ids}'`);
  }
  if (members.length > layoutMembersMax) {
    throw new FlagError(`--members lists more than ${layoutMembersMax} servers`);
  }
  const template = text(values, 'host-template') ?? '{id}';
  const ports = {
    raft: port(values, 'raft-port', 7000),
    client: port(values, 'client-port', 6379),
    http: port(values, 'http-port', 8080),
  };
  return {
    clusterId: text(values, 'cluster-id') ?? 'raftkit-kv',
    members: members.map((id) => {
      const host = formatHost(template.replaceAll('{id}', id));
      return {
        id,
        raft: `${host}:${ports.raft}`,
        client: `${host}:${ports.client}`,
        http: `${host}:${ports.http}`,
      };
    }),
  };
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

/** Turns flags (and environment) into a checked {@link ServerConfig}. */
export function serverConfig(values: FlagValues): ServerConfig {
  const id = text(values, 'id');
  const directory = text(values, 'dir');
  if (id === undefined || directory === undefined)
    throw new FlagError('--id and --dir are required');
  const layout = layoutOf(values);
  const self = layout.members.find((member) => member.id === id);
  if (self === undefined) throw new FlagError(`${id} is not one of the members`);
  const usingLayout = text(values, 'layout') !== undefined;
  const bindHost = text(values, 'bind-host') ?? (usingLayout ? null : '0.0.0.0');
  const bindOf = (flag: FlagName, advertised: string): string => {
    const given = text(values, flag);
    if (given !== undefined) return checkAddress(given, flag);
    return bindHost === null
      ? advertised
      : `${formatHost(bindHost)}:${splitHostPort(advertised).port}`;
  };
  const bind = {
    raft: bindOf('raft-bind', self.raft),
    client: bindOf('client-bind', self.client),
    http: bindOf('http-bind', self.http),
  };
  const { secret, tls } = authentication(values, bind.raft);
  const tickMs = wholeNumber(values, 'tick-ms', { minimum: 1, maximum: 60_000, fallback: 100 });
  return {
    id,
    directory,
    layout,
    layoutFile: text(values, 'layout') ?? null,
    join: values.join === true,
    bind,
    discovery: discoveryOf(values, layout),
    secret,
    tls,
    consistency: choice(values, 'consistency', ['linearizable', 'lease', 'stale'], 'linearizable'),
    tickMs,
    snapshots: {
      entriesMax: wholeNumber(values, 'snapshot-entries', {
        minimum: 1,
        maximum: 100_000_000,
        fallback: snapshotDefaults.entriesMax,
      }),
      trailingEntries: wholeNumber(values, 'snapshot-trailing', {
        minimum: 0,
        maximum: 100_000_000,
        fallback: snapshotDefaults.trailingEntries,
      }),
    },
    logFormat: choice(values, 'log-format', ['text', 'json'], 'text'),
    logLevel: choice(values, 'log-level', ['trace', 'debug', 'info', 'warn', 'error'], 'info'),
    exitWithParent: values['exit-with-parent'] === true,
    password: text(values, 'password') ?? null,
    connectionsMax: wholeNumber(values, 'maxclients', {
      minimum: 1,
      maximum: 1_000_000,
      fallback: 10_000,
    }),
    idleTimeoutMs:
      wholeNumber(values, 'timeout', { minimum: 0, maximum: 31_536_000, fallback: 0 }) * 1000,
    requestBytesMax: wholeNumber(values, 'proto-max-bulk-len', {
      minimum: 1024,
      // One request must fit one log entry with room to spare.
      maximum: 64 * 1024 * 1024,
      fallback: 512 * 1024,
    }),
    faultInjection: values['fault-injection'] === true,
  };
}

/** A flag holding a whole number within bounds, or its fallback when absent. */
function wholeNumber(
  values: FlagValues,
  name: FlagName,
  bounds: { readonly minimum: number; readonly maximum: number; readonly fallback: number },
): number {
  const raw = text(values, name);
  if (raw === undefined) return bounds.fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.minimum || value > bounds.maximum) {
    throw new FlagError(
      `--${name} must be a whole number from ${bounds.minimum} to ${bounds.maximum}, got '${raw}'`,
    );
  }
  return value;
}

function checkAddress(address: string, flag: FlagName): string {
  try {
    splitHostPort(address);
    return address;
  } catch {
    throw new FlagError(`--${flag} must be host:port, got '${address}'`);
  }
}

function discoveryOf(values: FlagValues, layout: ClusterLayout): Discovery {
  const service = text(values, 'discovery-srv');
  if (service === undefined) {
    return new StaticDiscovery(
      Object.fromEntries(layout.members.map((member) => [member.id, member.raft])),
    );
  }
  return new DnsDiscovery({ service, port: port(values, 'raft-port', 7000) });
}

/**
 * The Raft port's credentials. Off only where no one else can reach the port (loopback) or when
 * asked for with `--insecure`: a server that any host can reach must not take votes from anyone.
 */
function authentication(
  values: FlagValues,
  raftBind: string,
): { secret: string | null; tls: TcpTlsOptions | null } {
  const inline = text(values, 'secret');
  const file = text(values, 'secret-file');
  if (inline !== undefined && file !== undefined) {
    throw new FlagError('give --secret or --secret-file, not both');
  }
  const secret = file === undefined ? (inline ?? null) : readText(file, 'secret-file').trim();
  if (secret !== null && secret.length < 16) {
    throw new FlagError('the Raft secret must be at least 16 characters');
  }
  const tlsFiles = (['tls-key', 'tls-cert', 'tls-ca'] as const).map((flag) => text(values, flag));
  const tlsGiven = tlsFiles.filter((path) => path !== undefined).length;
  if (tlsGiven !== 0 && tlsGiven !== 3) {
    throw new FlagError('mutual TLS needs all of --tls-key, --tls-cert and --tls-ca');
  }
  const tls =
    tlsGiven === 3
      ? {
          key: readText(tlsFiles[0]!, 'tls-key'),
          cert: readText(tlsFiles[1]!, 'tls-cert'),
          ca: readText(tlsFiles[2]!, 'tls-ca'),
        }
      : null;
  const { host } = splitHostPort(raftBind);
  if (secret === null && tls === null && !isLoopback(host) && values.insecure !== true) {
    throw new FlagError(
      `the Raft port ${raftBind} is reachable from other hosts: authenticate it with ` +
        '--secret-file (or RAFTKIT_SECRET) or --tls-key/--tls-cert/--tls-ca, or pass --insecure',
    );
  }
  return { secret, tls };
}
