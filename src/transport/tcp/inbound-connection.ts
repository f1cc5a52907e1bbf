import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { FrameDecoder } from '../../codec/frame-decoder.js';
import { decodeMessage } from '../../codec/message-codec.js';
import type { NodeId } from '../../core/index.js';
import type { TimerHandle } from '../../platform/clock.js';
import type { Message } from '../transport.js';
import {
  computeProof,
  decodeHandshake,
  handshakeFrame,
  handshakeBytesMax,
  newNonce,
  proofMatches,
  type Hello,
  type Reject,
} from './handshake.js';
import { certificateNames } from './peer-identity.js';
import type { ResolvedTcpOptions } from './tcp-options.js';
import type { TcpTransportStats } from './tcp-stats.js';

/** What an inbound connection needs from its transport. */
export interface InboundHost {
  readonly self: NodeId;
  readonly options: ResolvedTcpOptions;
  readonly stats: TcpTransportStats;
  /** Hands a checked message to the handler. */
  deliver(message: Message): void;
  /** The connection authenticated as `peer`; an older connection from the same peer may go. */
  authenticated(peer: NodeId, connection: InboundConnection): void;
  /** The connection closed. */
  closed(connection: InboundConnection): void;
}

type InboundState = 'hello' | 'checking' | 'proof' | 'open' | 'closed';

/**
 * The listening side of one connection: runs the handshake, then decodes the peer's messages. It
 * never sends a message, only handshake frames. Until the peer is authenticated at most one small
 * handshake frame is buffered.
 */
export class InboundConnection {
  readonly #socket: Socket;
  readonly #host: InboundHost;
  #state: InboundState = 'hello';
  #decoder = new FrameDecoder({ frameBytesMax: handshakeBytesMax });
  #timer: TimerHandle | null;
  #hello: Hello | null = null;
  readonly #serverNonce = newNonce();

  constructor(socket: Socket, host: InboundHost) {
    this.#socket = socket;
    this.#host = host;
    // Also bounds how long a refused peer may take to read its refusal before it is cut off.
    this.#timer = host.options.clock.schedule(host.options.handshakeTimeoutMs, () => {
      this.#timer = null;
      if (this.#state !== 'closed') {
        host.stats.rejected.invalidHandshake++;
        host.options.logger.warn(this.#fields(), 'handshake timed out');
      }
      this.close();
    });
    socket.setNoDelay(true);
    // Without it a dialer that vanished leaves this side waiting for bytes forever.
    socket.setKeepAlive(true, host.options.keepAliveMs);
    // A plain view of each chunk (no copy), so decoded byte fields are Uint8Array, never Buffer.
    socket.on('data', (chunk: Buffer) =>
      this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#state === 'open') host.options.logger.info(this.#fields(), 'peer disconnected');
      this.#stopTimer();
      this.#state = 'closed';
      host.closed(this);
    });
  }

  /** The authenticated peer, once the handshake is complete. */
  get peer(): NodeId | null {
    return this.#state === 'open' ? (this.#hello?.from ?? null) : null;
  }

  /** Closes the connection at once. */
  close(): void {
    if (this.#state === 'open') this.#host.options.logger.info(this.#fields(), 'peer disconnected');
    this.#stopTimer();
    this.#state = 'closed';
    this.#socket.destroy();
  }

  /** Who is on the other end, for log lines. */
  #fields(): Record<string, unknown> {
    return {
      direction: 'inbound',
      remote: `${this.#socket.remoteAddress ?? '?'}:${this.#socket.remotePort ?? '?'}`,
      ...(this.#hello === null ? {} : { peer: this.#hello.from }),
    };
  }

  #onData(chunk: Uint8Array): void {
    if (this.#state === 'closed') return;
    let bodies: Uint8Array[];
    try {
      bodies = this.#decoder.push(chunk);
    } catch {
      this.#countInvalid();
      return this.close();
    }
    for (const [position, body] of bodies.entries()) {
      if (this.#state === 'open') {
        this.#onMessage(body);
      } else {
        const decoder = this.#decoder;
        this.#onHandshake(body);
        // The dialer must wait for the accept before sending messages; bytes already behind the
        // proof were framed under the handshake limit and cannot be trusted.
        const pipelined = position < bodies.length - 1 || decoder.bufferedBytes > 0;
        if (this.#is('open') && pipelined) {
          this.#host.stats.rejected.invalidHandshake++;
          this.#host.options.logger.warn(
            this.#fields(),
            'messages sent before the handshake ended',
          );
          return this.close();
        }
      }
      if (this.#is('closed')) return;
    }
  }

  // A method call, not a comparison, because handlers change the state under the compiler's feet.
  #is(state: InboundState): boolean {
    return this.#state === state;
  }

  #countInvalid(): void {
    if (this.#state === 'open') {
      this.#host.stats.rejected.invalidMessage++;
      this.#host.options.logger.warn(this.#fields(), 'malformed frame; closing the connection');
    } else {
      this.#host.stats.rejected.invalidHandshake++;
      this.#host.options.logger.warn(this.#fields(), 'malformed handshake; closing the connection');
    }
  }

  #onMessage(body: Uint8Array): void {
    let message: Message;
    try {
      message = decodeMessage(body, this.#host.options.codecLimits);
    } catch {
      // A stream that carries garbage cannot be trusted further.
      this.#countInvalid();
      return this.close();
    }
    if (message.from !== this.#hello?.from || message.to !== this.#host.self) {
      this.#host.stats.rejected.invalidMessage++;
      this.#host.options.logger.warn(
        { ...this.#fields(), from: message.from, to: message.to },
        'misaddressed message dropped',
      );
      return;
    }
    this.#host.deliver(message);
  }

  #onHandshake(body: Uint8Array): void {
    let frame;
    try {
      frame = decodeHandshake(body);
    } catch {
      this.#countInvalid();
      return this.close();
    }
    if (this.#state === 'hello' && frame.kind === 'hello') {
      this.#hello = frame;
      this.#state = 'checking';
      void this.#checkHello(frame);
    } else if (this.#state === 'proof' && frame.kind === 'proof') {
      this.#checkProof(frame.proof);
    } else {
      this.#countInvalid();
      this.close();
    }
  }

  async #checkHello(hello: Hello): Promise<void> {
    const { options, self } = this.#host;
    if (hello.clusterId !== options.clusterId) return this.#reject('UNAUTHENTICATED');
    if (options.tls !== null) {
      const certificate = (this.#socket as TLSSocket).getPeerCertificate();
      if (!certificateNames(certificate, hello.from)) return this.#reject('UNAUTHENTICATED');
    }
    if (hello.to !== self || hello.from === self) return this.#reject('UNKNOWN_PEER');
    const address = await options.discovery.resolve(hello.from).catch(() => null);
    if (this.#state !== 'checking') return;
    if (address === null) return this.#reject('UNKNOWN_PEER');
    this.#state = 'proof';
    this.#socket.write(
      handshakeFrame({ kind: 'challenge', serverId: self, nonce: this.#serverNonce }),
    );
  }

  #checkProof(received: Uint8Array): void {
    const hello = this.#hello!;
    const secret = this.#host.options.secret;
    const context = this.#proofContext(hello);
    // Without a secret the proof must be empty: a dialer that has one means a misconfigured
    // cluster, refused loudly rather than half-trusted.
    const expected = secret === null ? new Uint8Array(0) : computeProof(secret, 'client', context);
    if (!proofMatches(expected, received)) return this.#reject('UNAUTHENTICATED');
    const proof = secret === null ? new Uint8Array(0) : computeProof(secret, 'server', context);
    this.#stopTimer();
    this.#state = 'open';
    // Authenticated: from here on frames may be as large as any message.
    this.#decoder = new FrameDecoder({
      frameBytesMax: this.#host.options.codecLimits.messageBytesMax,
    });
    this.#host.stats.connections.accepted++;
    this.#host.options.logger.info(this.#fields(), 'peer connected');
    this.#socket.write(handshakeFrame({ kind: 'accept', proof }));
    this.#host.authenticated(hello.from, this);
  }

  #proofContext(hello: Hello) {
    return {
      clusterId: this.#host.options.clusterId,
      clientId: hello.from,
      serverId: this.#host.self,
      clientNonce: hello.nonce,
      serverNonce: this.#serverNonce,
    };
  }

  #reject(code: Reject['code']): void {
    const rejected = this.#host.stats.rejected;
    if (code === 'UNAUTHENTICATED') rejected.unauthenticated++;
    else if (code === 'UNKNOWN_PEER') rejected.unknownPeer++;
    else rejected.invalidHandshake++;
    this.#host.options.logger.warn(
      {
        ...this.#fields(),
        reason: code,
        ...(this.#hello !== null && this.#hello.clusterId !== this.#host.options.clusterId
          ? { clusterId: this.#hello.clusterId }
          : {}),
      },
      'handshake rejected',
    );
    this.#state = 'closed';
    // Say why, then hang up; the socket is destroyed once the reason is flushed.
    this.#socket.end(handshakeFrame({ kind: 'reject', code }), () => this.#socket.destroy());
  }

  #stopTimer(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}
