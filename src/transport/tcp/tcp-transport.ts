import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { encodeFrame } from '../../codec/message-codec.js';
import { RaftError } from '../../core/index.js';
import type { NodeId } from '../../core/index.js';
import type { PeerAddress } from '../../discovery/discovery.js';
import type { Message, MessageHandler, Transport } from '../transport.js';
import { InboundConnection, type InboundHost } from './inbound-connection.js';
import { OutboundLink } from './outbound-link.js';
import {
  resolveTcpOptions,
  type ResolvedTcpOptions,
  type TcpTransportOptions,
} from './tcp-options.js';
import {
  copyTcpTransportStats,
  newTcpTransportStats,
  type TcpTransportStats,
} from './tcp-stats.js';

type TransportState = 'new' | 'starting' | 'running' | 'stopped';

/**
 * Raft messages over TCP, optionally with mutual TLS, using only Node's standard library.
 *
 * Each server dials one connection to every peer it sends to and writes its messages there; it
 * receives on the connections its peers dial. A handshake names the cluster and both node ids and
 * authenticates the dialer (by its TLS certificate, by a shared secret, or both). Each peer has a
 * bounded queue: when a peer is slow or gone, the oldest messages are dropped and counted, since
 * Raft retransmits. Messages sent in the same turn of the event loop share system calls.
 *
 * ```ts
 * const transport = new TcpTransport({
 *   clusterId: 'orders',
 *   listen: '0.0.0.0:7000',
 *   discovery: new StaticDiscovery({ b: '10.0.0.2:7000', c: '10.0.0.3:7000' }),
 *   secret: process.env.RAFT_SECRET,
 * });
 * ```
 */
export class TcpTransport implements Transport {
  readonly #options: ResolvedTcpOptions;
  readonly #stats = newTcpTransportStats();
  readonly #links = new Map<NodeId, OutboundLink>();
  readonly #inbound = new Set<InboundConnection>();
  readonly #inboundByPeer = new Map<NodeId, InboundConnection>();
  #state: TransportState = 'new';
  #self: NodeId | null = null;
  #handler: MessageHandler | null = null;
  #inboundHost: InboundHost | null = null;
  #server: Server | null = null;
  #address: PeerAddress | null = null;
  #unsubscribe: (() => void) | null = null;
  #stopping: Promise<void> | null = null;

  /** Checks the options at once; throws RaftError `INVALID_CONFIG` for inconsistent ones. */
  constructor(options: TcpTransportOptions) {
    this.#options = resolveTcpOptions(options);
  }

  /** The address the server listens on (with the actual port when 0 was asked), once started. */
  address(): PeerAddress | null {
    return this.#address;
  }

  /** A copy of the counters. */
  stats(): TcpTransportStats {
    return copyTcpTransportStats(this.#stats);
  }

  /** Messages waiting in each peer's queue. */
  queuedMessages(): Map<NodeId, number> {
    return new Map([...this.#links].map(([peer, link]) => [peer, link.queuedMessages]));
  }

  /** Whether the outbound connection to `peer` has completed its handshake. */
  isConnected(peer: NodeId): boolean {
    return this.#links.get(peer)?.isOpen ?? false;
  }

  /** Starts listening. Rejects with `INVALID_CONFIG` if the address cannot be bound. */
  async start(self: NodeId, handler: MessageHandler): Promise<void> {
    if (this.#state !== 'new') {
      throw new RaftError('INVALID_CONFIG', `transport cannot start: it is ${this.#state}`);
    }
    this.#state = 'starting';
    this.#self = self;
    this.#handler = handler;
    this.#inboundHost = this.#newInboundHost(self);
    const server = this.#createServer();
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.#options.listen.host, port: this.#options.listen.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.#state = 'stopped';
      throw new RaftError('INVALID_CONFIG', `cannot listen on the configured address`, {
        cause: error,
      });
    }
    // A server error after listening (rare: the handle failed) must not crash the process.
    server.on('error', () => undefined);
    const bound = server.address();
    if (bound !== null && typeof bound === 'object') {
      this.#address = { host: bound.address, port: bound.port };
    }
    this.#unsubscribe = this.#options.discovery.subscribe((peers) => {
      for (const [peer, link] of this.#links) link.addressChanged(peers.get(peer));
    });
    if (this.#state === 'starting') this.#state = 'running';
    // Dial every known peer now: the first votes of a starting cluster then find connections
    // open, instead of each paying a connect and a handshake while the other servers' election
    // timers run on (on a busy machine that overlap split the first election).
    for (const peer of this.#options.discovery.peers().keys()) this.#dialEarly(peer);
  }

  /** Opens the connection to `peer` ahead of the first message, if it is not open or opening. */
  #dialEarly(peer: NodeId): void {
    const self = this.#self;
    if (this.#state === 'running' && self !== null && peer !== self) {
      this.#linkTo(self, peer).connect();
    }
  }

  #linkTo(self: NodeId, peer: NodeId): OutboundLink {
    let link = this.#links.get(peer);
    if (link === undefined) {
      link = new OutboundLink(self, peer, this.#options, this.#stats);
      this.#links.set(peer, link);
    }
    return link;
  }

  /**
   * Encodes the message and queues it for `message.to`. Never throws: a message that cannot be
   * encoded or sent is dropped and counted in {@link stats}.
   */
  send(message: Message): void {
    this.#stats.sent++;
    if (this.#state !== 'running' || message.from !== this.#self || message.to === this.#self) {
      this.#stats.dropped.notSendable++;
      return;
    }
    let frame: Uint8Array;
    try {
      frame = encodeFrame(message, this.#options.codecLimits);
    } catch {
      this.#stats.dropped.unencodable++;
      return;
    }
    this.#linkTo(message.from, message.to).enqueue(frame);
  }

  /** Closes the server, every connection and every timer. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    for (const connection of this.#inbound) connection.close();
    this.#inbound.clear();
    this.#inboundByPeer.clear();
    const server = this.#server;
    this.#server = null;
    if (server?.listening === true) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  #createServer(): Server {
    const tls = this.#options.tls;
    const onConnection = (socket: Socket) => this.#accept(socket);
    if (tls === null) return createTcpServer({ noDelay: true }, onConnection);
    const server = createTlsServer(
      {
        key: tls.key,
        cert: tls.cert,
        ca: typeof tls.ca === 'string' || Buffer.isBuffer(tls.ca) ? tls.ca : [...tls.ca],
        requestCert: true,
        rejectUnauthorized: true,
        // Bounds the TLS handshake too, before our own handshake timer starts.
        handshakeTimeout: this.#options.handshakeTimeoutMs,
      },
      onConnection,
    );
    server.on('tlsClientError', (error, socket) => {
      this.#stats.rejected.unauthenticated++;
      this.#options.logger.warn(
        {
          direction: 'inbound',
          remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
          reason: error.message,
        },
        'TLS handshake rejected',
      );
      socket.destroy();
    });
    return server;
  }

  #accept(socket: Socket): void {
    if (this.#state !== 'running' && this.#state !== 'starting') {
      socket.destroy();
      return;
    }
    if (this.#inbound.size >= this.#options.inboundConnectionsMax) {
      this.#stats.rejected.tooManyConnections++;
      this.#options.logger.warn(
        { limit: this.#options.inboundConnectionsMax },
        'too many inbound connections; refusing one',
      );
      socket.destroy();
      return;
    }
    this.#inbound.add(new InboundConnection(socket, this.#inboundHost!));
  }

  #newInboundHost(self: NodeId): InboundHost {
    return {
      self,
      options: this.#options,
      stats: this.#stats,
      deliver: (message) => this.#deliver(message),
      authenticated: (peer, connection) => {
        const previous = this.#inboundByPeer.get(peer);
        this.#inboundByPeer.set(peer, connection);
        // A peer that reconnects has given up on its old connection: no need to wait for a timeout.
        if (previous !== undefined && previous !== connection) previous.close();
        // It is up: a dial that failed while it was starting can succeed now.
        this.#dialEarly(peer);
      },
      closed: (connection) => {
        this.#inbound.delete(connection);
        for (const [peer, open] of this.#inboundByPeer) {
          if (open === connection) this.#inboundByPeer.delete(peer);
        }
      },
    };
  }

  #deliver(message: Message): void {
    const handler = this.#handler;
    if (this.#state !== 'running' || handler === null) return;
    this.#stats.received++;
    try {
      handler(message);
    } catch (error) {
      this.#stats.handlerErrors++;
      const report = this.#options.onHandlerError;
      if (report !== null) report(error);
      else
        queueMicrotask(() => {
          throw error;
        });
    }
  }
}
