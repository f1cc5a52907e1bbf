import { readFileSync } from 'node:fs';

/** Where one member listens: Raft traffic, Redis clients, and HTTP metrics. */
export interface MemberAddresses {
  readonly id: string;
  /** `host:port` of the Raft transport. */
  readonly raft: string;
  /** `host:port` of the Redis protocol listener. */
  readonly client: string;
  /** `host:port` of the HTTP listener (`/metrics`, `/status`). */
  readonly http: string;
}

/** A whole cluster's addresses, as every server and the CLI read them from one file. */
export interface ClusterLayout {
  /** Names the cluster on the Raft transport; peers of other clusters are refused. */
  readonly clusterId: string;
  readonly members: readonly MemberAddresses[];
}

/** Most members a layout may list; Raft clusters stay small. */
export const layoutMembersMax = 64;

/** Offsets from the base port: clients at base+i, Raft at base+100+i, HTTP at base+200+i. */
export const raftPortOffset = 100;
export const httpPortOffset = 200;

/** The layout of `nodes` servers on one host, numbered n1…nN from `basePort`. */
export function localLayout(options: {
  readonly nodes: number;
  readonly basePort: number;
  readonly host?: string;
  readonly clusterId?: string;
}): ClusterLayout {
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > layoutMembersMax) {
    throw new Error(`nodes must be an integer from 1 to ${layoutMembersMax}`);
  }
  if (options.basePort < 1 || options.basePort + httpPortOffset + options.nodes > 65_535) {
    throw new Error('base port out of range');
  }
  const members = Array.from({ length: options.nodes }, (_, position) => ({
    id: `n${position + 1}`,
    client: `${host}:${options.basePort + position}`,
    raft: `${host}:${options.basePort + raftPortOffset + position}`,
    http: `${host}:${options.basePort + httpPortOffset + position}`,
  }));
  return { clusterId: options.clusterId ?? 'raftkit-kv', members };
}

/** Reads and checks a layout file written by {@link localLayout} (or by hand). */
export function readClusterLayout(path: string): ClusterLayout {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ClusterLayout>;
  if (typeof parsed.clusterId !== 'string' || !Array.isArray(parsed.members)) {
    throw new Error(`${path}: expected { clusterId, members: [...] }`);
  }
  if (parsed.members.length === 0 || parsed.members.length > layoutMembersMax) {
    throw new Error(`${path}: between 1 and ${layoutMembersMax} members expected`);
  }
  for (const member of parsed.members as unknown[]) {
    for (const field of ['id', 'raft', 'client', 'http'] as const) {
      const value: unknown = (member as Record<string, unknown> | null)?.[field];
      if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`${path}: every member needs a string ${field}`);
      }
    }
  }
  return { clusterId: parsed.clusterId, members: parsed.members as MemberAddresses[] };
}

/** Splits `host:port` (IPv6 hosts in brackets). */
export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (match === null) throw new Error(`not a host:port address: ${address}`);
  return { host: match[1]!, port: Number(match[2]) };
}
