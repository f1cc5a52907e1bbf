import type { NodeId } from '../core/index.js';
import { parseAddress, type Discovery, type PeerAddress, type PeersListener } from './discovery.js';

/**
 * A fixed table of node ids and addresses, for clusters whose members are known in advance. The
 * table can be changed at runtime (for example from the cluster configuration's `addresses`), and
 * subscribers hear about each change.
 *
 * ```ts
 * const discovery = new StaticDiscovery({ a: '10.0.0.1:7000', b: '10.0.0.2:7000' });
 * ```
 */
export class StaticDiscovery implements Discovery {
  readonly #peers = new Map<NodeId, PeerAddress>();
  readonly #listeners = new Set<PeersListener>();

  /** Addresses are `host:port` strings or objects; invalid ones throw `INVALID_CONFIG`. */
  constructor(peers: Readonly<Record<NodeId, string | PeerAddress>> = {}) {
    for (const [id, address] of Object.entries(peers)) this.#peers.set(id, parseAddress(address));
  }

  resolve(id: NodeId): Promise<PeerAddress | null> {
    return Promise.resolve(this.#peers.get(id) ?? null);
  }

  peers(): ReadonlyMap<NodeId, PeerAddress> {
    return new Map(this.#peers);
  }

  subscribe(listener: PeersListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Adds a peer or moves it to a new address. */
  set(id: NodeId, address: string | PeerAddress): void {
    const parsed = parseAddress(address);
    const current = this.#peers.get(id);
    if (current?.host === parsed.host && current.port === parsed.port) return;
    this.#peers.set(id, parsed);
    this.#notify();
  }

  /** Forgets a peer. */
  delete(id: NodeId): void {
    if (this.#peers.delete(id)) this.#notify();
  }

  #notify(): void {
    const snapshot = this.peers();
    for (const listener of [...this.#listeners]) listener(snapshot);
  }
}
