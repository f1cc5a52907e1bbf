import { positiveIntegerOption, RaftError } from '../../core/index.js';
import { realClock, type Clock } from '../../platform/clock.js';
import { silentLogger, type Logger } from '../../platform/logger.js';
import {
  messageCodecDefaults,
  frameHeaderBytes,
  type MessageCodecLimits,
} from '../../codec/message-codec.js';
import { parseAddress, type Discovery, type PeerAddress } from '../../discovery/discovery.js';

/** Certificates for mutual TLS: every member's certificate is signed by `ca`. */
export interface TcpTlsOptions {
  /** This server's private key (PEM). */
  readonly key: string | Buffer;
  /** This server's certificate (PEM); its CN or a DNS/URI subject alternative name is its node id. */
  readonly cert: string | Buffer;
  /** The certificate authority (or authorities) that signs the members' certificates (PEM). */
  readonly ca: string | Buffer | readonly (string | Buffer)[];
}

/** Options for {@link TcpTransport}. Every limit has a default sized for a typical cluster. */
export interface TcpTransportOptions {
  /** Names the cluster; a peer of another cluster is refused even with valid credentials. */
  readonly clusterId: string;
  /** Where to find peers. The transport asks again on every reconnect. */
  readonly discovery: Discovery;
  /** Address to listen on, as `host:port` or an object; port 0 picks a free port. */
  readonly listen: string | { readonly host: string; readonly port: number };
  /** Mutual TLS; a peer's certificate must name the node id it claims. */
  readonly tls?: TcpTlsOptions;
  /**
   * A secret shared by every member. The handshake then proves knowledge of it both ways
   * (HMAC-SHA256 over fresh nonces from each side), so a recorded handshake cannot be replayed.
   * Without TLS it authenticates peers but does not encrypt traffic.
   */
  readonly secret?: string | Uint8Array;
  /** Size and count limits for decoding messages (see the codec). */
  readonly codecLimits?: Partial<MessageCodecLimits>;
  /** Messages waiting for one peer before the oldest are dropped. */
  readonly queueMessagesMax?: number;
  /** Bytes waiting for one peer before the oldest messages are dropped. */
  readonly queueBytesMax?: number;
  /** Bytes handed to one socket and not yet sent before the transport stops writing to it. */
  readonly socketBufferBytesMax?: number;
  /** First reconnect delay. */
  readonly reconnectDelayMsMin?: number;
  /** Longest reconnect delay. */
  readonly reconnectDelayMsMax?: number;
  /** Time allowed to connect and complete the handshake. */
  readonly handshakeTimeoutMs?: number;
  /** Inbound connections (authenticated or not) held at once; more are refused. */
  readonly inboundConnectionsMax?: number;
  /** A connection whose socket stays full (the peer reads nothing) this long is closed and redialled. */
  readonly writeStallTimeoutMs?: number;
  /** Idle time before TCP keep-alive probes start, so a vanished peer's connection is noticed. */
  readonly keepAliveMs?: number;
  /** Timers for reconnects and handshake deadlines. */
  readonly clock?: Clock;
  /** Jitter for reconnect delays, in [0, 1). */
  readonly random?: () => number;
  /**
   * Receives an error thrown by the message handler (which must not throw). Without it the error
   * is rethrown outside the socket's event handler, as an uncaught exception.
   */
  readonly onHandlerError?: (error: unknown) => void;
  /**
   * Receives connects and disconnects of peers, rejected handshakes and malformed frames.
   * Default: silent.
   */
  readonly logger?: Logger;
}

/** Options with every default filled in and checked. */
export interface ResolvedTcpOptions {
  readonly clusterId: string;
  readonly discovery: Discovery;
  readonly listen: PeerAddress;
  readonly tls: TcpTlsOptions | null;
  readonly secret: Uint8Array | null;
  readonly codecLimits: MessageCodecLimits;
  readonly queueMessagesMax: number;
  readonly queueBytesMax: number;
  readonly socketBufferBytesMax: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  readonly handshakeTimeoutMs: number;
  readonly inboundConnectionsMax: number;
  readonly writeStallTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onHandlerError: ((error: unknown) => void) | null;
  readonly logger: Logger;
}

/** Defaults for the numeric limits. */
export const tcpTransportDefaults = Object.freeze({
  queueMessagesMax: 4096,
  queueBytesMax: 64 * 1024 * 1024,
  socketBufferBytesMax: 4 * 1024 * 1024,
  reconnectDelayMsMin: 50,
  reconnectDelayMsMax: 5000,
  handshakeTimeoutMs: 5000,
  inboundConnectionsMax: 1024,
  writeStallTimeoutMs: 15_000,
  keepAliveMs: 10_000,
});

type TcpLimitName = keyof typeof tcpTransportDefaults;

/** Every numeric limit, from the options or the defaults table, each a positive integer. */
function resolveLimits(options: TcpTransportOptions): Record<TcpLimitName, number> {
  const limits = {} as Record<TcpLimitName, number>;
  for (const name of Object.keys(tcpTransportDefaults) as TcpLimitName[]) {
    limits[name] = positiveIntegerOption(name, options[name] ?? tcpTransportDefaults[name]);
  }
  return limits;
}

/** Fills in defaults and rejects inconsistent options with RaftError `INVALID_CONFIG`. */
export function resolveTcpOptions(options: TcpTransportOptions): ResolvedTcpOptions {
  const limits = { ...messageCodecDefaults, ...options.codecLimits };
  const resolved: ResolvedTcpOptions = {
    clusterId: options.clusterId,
    discovery: options.discovery,
    listen: parseAddress(options.listen, { allowAnyPort: true }),
    tls: options.tls ?? null,
    secret:
      options.secret === undefined
        ? null
        : typeof options.secret === 'string'
          ? new TextEncoder().encode(options.secret)
          : options.secret,
    codecLimits: limits,
    ...resolveLimits(options),
    clock: options.clock ?? realClock,
    random: options.random ?? Math.random,
    onHandlerError: options.onHandlerError ?? null,
    logger: options.logger ?? silentLogger,
  };
  checkConsistency(resolved);
  return resolved;
}

function checkConsistency(options: ResolvedTcpOptions): void {
  if (options.clusterId.length === 0) {
    throw new RaftError('INVALID_CONFIG', 'clusterId must not be empty');
  }
  if (options.reconnectDelayMsMax < options.reconnectDelayMsMin) {
    throw new RaftError('INVALID_CONFIG', 'reconnectDelayMsMax is below reconnectDelayMsMin');
  }
  if (options.queueBytesMax < frameHeaderBytes + options.codecLimits.messageBytesMax) {
    throw new RaftError('INVALID_CONFIG', 'queueBytesMax must hold at least one largest message');
  }
  if (options.secret?.length === 0) {
    throw new RaftError('INVALID_CONFIG', 'secret must not be empty');
  }
}
