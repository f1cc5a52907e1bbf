import type { SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { RaftError } from '../core/index.js';
import type { NodeId } from '../core/index.js';
import { realClock, type Clock, type TimerHandle } from '../platform/clock.js';
import { samePeers, type Discovery, type PeerAddress, type PeersListener } from './discovery.js';

/** Options for {@link DnsDiscovery}. */
export interface DnsDiscoveryOptions {
  /** The SRV name listing the members, e.g. `_raft._tcp.orders.internal`. */
  readonly service: string;
  /** DNS servers as `ip` or `ip:port` (IPv6 as `[ip]:port`); the system's servers when omitted. */
  readonly servers?: readonly string[];
  /** Port of a member found through its A/AAAA record when SRV does not list it. */
  readonly port: number;
  /**
   * The host name looked up (A, then AAAA) for a node id SRV does not list. Defaults to the id
   * under the service's domain: `b` → `b.orders.internal` for `_raft._tcp.orders.internal`.
   */
  readonly hostFor?: (id: NodeId) => string;
  /** The node id of an SRV target. Defaults to the target's first label (`b.orders.internal` → `b`). */
  readonly nodeIdFor?: (target: string) => NodeId;
  /** Time between refreshes of the SRV record. */
  readonly refreshIntervalMs?: number;
  /** Time one DNS query may take before it is retried. */
  readonly queryTimeoutMs?: number;
  /** Attempts per DNS query. */
  readonly queryTries?: number;
  /** Most members taken from one SRV answer; the rest are ignored. */
  readonly peersMax?: number;
  /** Schedules refreshes. */
  readonly clock?: Clock;
}

/** Defaults for {@link DnsDiscoveryOptions}. */
export const dnsDiscoveryDefaults = Object.freeze({
  refreshIntervalMs: 30_000,
  queryTimeoutMs: 2000,
  queryTries: 2,
  peersMax: 1024,
});

// Answers that mean "no such record" rather than "DNS is failing right now".
const absentCodes = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'ENONAME']);

function errorCode(error: unknown): string | undefined {
  return (error as { code?: unknown } | null)?.code as string | undefined;
}

/**
 * Finds members through DNS: the SRV record `service` lists them (target and port), and a member
 * it does not list is looked up by A/AAAA record under the service's domain, at `port`. The SRV
 * record is read again every `refreshIntervalMs` by one timer; subscribers hear about changes.
 * A failing DNS server keeps the last good list rather than emptying it.
 *
 * ```ts
 * const discovery = new DnsDiscovery({ service: '_raft._tcp.orders.internal', port: 7000 });
 * await discovery.start();
 * ```
 */
export class DnsDiscovery implements Discovery {
  readonly #service: string;
  readonly #port: number;
  readonly #hostFor: (id: NodeId) => string;
  readonly #nodeIdFor: (target: string) => NodeId;
  readonly #refreshIntervalMs: number;
  readonly #peersMax: number;
  readonly #clock: Clock;
  readonly #resolver: Resolver;
  readonly #listeners = new Set<PeersListener>();
  #peers: ReadonlyMap<NodeId, PeerAddress> = new Map();
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(options: DnsDiscoveryOptions) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
      throw new RaftError('INVALID_CONFIG', `port must be a TCP port, got ${options.port}`);
    }
    this.#service = options.service;
    this.#port = options.port;
    const domain = options.service.split('.').filter((label) => !label.startsWith('_'));
    this.#hostFor = options.hostFor ?? ((id) => [id, ...domain].join('.'));
    this.#nodeIdFor = options.nodeIdFor ?? ((target) => target.split('.')[0]!);
    this.#refreshIntervalMs = options.refreshIntervalMs ?? dnsDiscoveryDefaults.refreshIntervalMs;
    this.#peersMax = options.peersMax ?? dnsDiscoveryDefaults.peersMax;
    this.#clock = options.clock ?? realClock;
    this.#resolver = new Resolver({
      timeout: options.queryTimeoutMs ?? dnsDiscoveryDefaults.queryTimeoutMs,
      tries: options.queryTries ?? dnsDiscoveryDefaults.queryTries,
    });
    if (options.servers !== undefined) this.#resolver.setServers([...options.servers]);
  }

  /** Reads the SRV record once, then keeps it fresh until {@link stop}. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.refresh(options);
    this.#scheduleRefresh();
  }

  /** Stops refreshing and cancels queries in flight. Idempotent. */
  stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = null;
    this.#resolver.cancel();
    return Promise.resolve();
  }

  /** Reads the SRV record now. Lookup failures keep the current list; they are never thrown. */
  async refresh(options: { signal?: AbortSignal } = {}): Promise<void> {
    let records: SrvRecord[];
    try {
      records = await abortable(this.#resolver.resolveSrv(this.#service), options.signal);
    } catch (error) {
      if (options.signal?.aborted === true) throw abortError(options.signal);
      // No SRV record: members are found one by one through A/AAAA. Anything else is transient.
      if (!absentCodes.has(errorCode(error) ?? '')) return;
      records = [];
    }
    records.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    const chosen = new Map<NodeId, { name: string; port: number }>();
    for (const record of records) {
      if (chosen.size >= this.#peersMax) break;
      const id = this.#nodeIdFor(record.name);
      if (!chosen.has(id)) chosen.set(id, { name: record.name, port: record.port });
    }
    const resolved = await Promise.all(
      [...chosen].map(async ([id, target]) => {
        const host = await this.#lookupHost(target.name);
        return host === null ? null : ([id, { host, port: target.port }] as const);
      }),
    );
    const next = new Map(resolved.filter((entry) => entry !== null));
    if (samePeers(next, this.#peers)) return;
    this.#peers = next;
    for (const listener of [...this.#listeners]) listener(next);
  }

  async resolve(id: NodeId, options: { signal?: AbortSignal } = {}): Promise<PeerAddress | null> {
    const listed = this.#peers.get(id);
    if (listed !== undefined) return listed;
    try {
      const host = await abortable(this.#lookupHost(this.#hostFor(id)), options.signal);
      return host === null ? null : { host, port: this.#port };
    } catch {
      return null;
    }
  }

  peers(): ReadonlyMap<NodeId, PeerAddress> {
    return this.#peers;
  }

  subscribe(listener: PeersListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #lookupHost(name: string): Promise<string | null> {
    if (isIP(name) !== 0) return name;
    for (const lookup of [
      () => this.#resolver.resolve4(name),
      () => this.#resolver.resolve6(name),
    ]) {
      try {
        const addresses = await lookup();
        if (addresses[0] !== undefined) return addresses[0];
      } catch {
        // Try the other family; a name with neither is simply unknown.
      }
    }
    return null;
  }

  #scheduleRefresh(): void {
    if (!this.#running) return;
    this.#timer = this.#clock.schedule(this.#refreshIntervalMs, () => {
      this.#timer = null;
      this.refresh().then(
        () => this.#scheduleRefresh(),
        () => this.#scheduleRefresh(),
      );
    });
  }
}

function abortError(signal: AbortSignal): RaftError {
  return new RaftError('ABORTED', 'DNS lookup aborted', { cause: signal.reason });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  // Once the caller gives up, the lookup's own outcome is of no interest, failure included.
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(abortError(signal));
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() =>
    signal.removeEventListener('abort', onAbort),
  );
}
