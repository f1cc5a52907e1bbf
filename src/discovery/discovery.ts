import { RaftError } from '../core/index.js';
import type { NodeId } from '../core/index.js';

/** Where a server listens. `host` is a name or an IP address (IPv6 without brackets). */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Called with the full, current peer list whenever it changes. */
export type PeersListener = (peers: ReadonlyMap<NodeId, PeerAddress>) => void;

/**
 * Finds where servers listen. Transports ask it for a peer's address each time they connect, so a
 * server that moves is found again on the next reconnect; subscribers also hear about changes at
 * once, so a transport can drop a connection to an old address.
 */
export interface Discovery {
  /** The address of `id`, or `null` when it is not known. Never rejects for a lookup failure. */
  resolve(id: NodeId, options?: { signal?: AbortSignal }): Promise<PeerAddress | null>;
  /** The peers known right now. */
  peers(): ReadonlyMap<NodeId, PeerAddress>;
  /** Calls `listener` after every change of the peer list; returns a function that unsubscribes. */
  subscribe(listener: PeersListener): () => void;
}

/** The highest TCP port. */
const portMax = 65_535;

/**
 * Parses `host:port`, `[ipv6]:port` (either optionally after `scheme://`) or a {@link PeerAddress}. Throws RaftError `INVALID_CONFIG`
 * for anything else, so a typo in a configuration fails at startup rather than at first connect.
 * Port 0 ("any free port") is accepted only with `allowAnyPort`, for listening addresses.
 */
export function parseAddress(
  address: string | PeerAddress,
  options: { allowAnyPort?: boolean } = {},
): PeerAddress {
  const portMin = options.allowAnyPort === true ? 0 : 1;
  if (typeof address !== 'string') return checkAddress(address, portMin);
  // Configurations may carry a scheme (`tcp://host:port`); the transport decides the protocol.
  address = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  const plain = /^([^:[\]]+):(\d+)$/.exec(address);
  const match = bracketed ?? plain;
  if (match === null) {
    throw new RaftError('INVALID_CONFIG', `address ${JSON.stringify(address)} is not host:port`);
  }
  return checkAddress({ host: match[1]!, port: Number(match[2]) }, portMin);
}

function checkAddress(address: PeerAddress, portMin: number): PeerAddress {
  const { host, port } = address;
  if (host.length === 0 || !Number.isInteger(port) || port < portMin || port > portMax) {
    throw new RaftError('INVALID_CONFIG', `invalid address ${host}:${port}`);
  }
  return { host, port };
}

/** Formats an address as `host:port`, bracketing IPv6 literals. */
export function formatAddress(address: PeerAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** Whether two peer lists hold the same ids at the same addresses. */
export function samePeers(
  a: ReadonlyMap<NodeId, PeerAddress>,
  b: ReadonlyMap<NodeId, PeerAddress>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [id, address] of a) {
    const other = b.get(id);
    if (other?.host !== address.host || other.port !== address.port) return false;
  }
  return true;
}
