import { isIP, connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { FrameDecoder } from '../../codec/frame-decoder.js';
import type { NodeId } from '../../core/index.js';
import type { TimerHandle } from '../../platform/clock.js';
import type { PeerAddress } from '../../discovery/discovery.js';
import { backoffDelayMs } from './backoff.js';
import { FrameQueue } from './frame-queue.js';
import {
  computeProof,
  decodeHandshake,
  handshakeFrame,
  handshakeBytesMax,
  newNonce,
  proofMatches,
  type HandshakeFrame,
  type ProofContext,
} from './handshake.js';
import { certificateNames } from './peer-identity.js';
import type { ResolvedTcpOptions } from './tcp-options.js';
import type { TcpTransportStats } from './tcp-stats.js';

/** Frames smaller than this are copied together into chunks of this size before writing. */
export const coalesceBytesMax = 64 * 1024;

/** One dial's handshake progress. */
interface DialHandshake {
  readonly nonce: Uint8Array;
  /** Set once the challenge arrived and the dialer proved itself. */
  context: ProofContext | null;
}

type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

/**
 * The one outbound connection to one peer, with its bounded queue. Messages only ever flow out on
 * it; the peer's messages arrive on the connection the peer dials. While the peer is unreachable
 * the queue keeps the newest messages, and the link reconnects with capped, jittered backoff.
 */
export class OutboundLink {
  readonly #self: NodeId;
  readonly #peer: NodeId;
  readonly #options: ResolvedTcpOptions;
  readonly #stats: TcpTransportStats;
  readonly #queue: FrameQueue;
  #state: LinkState = 'idle';
  #socket: Socket | null = null;
  #address: PeerAddress | null = null;
  #timer: TimerHandle | null = null;
  #resolving: AbortController | null = null;
  #attempt = 0;
  /** The flush at the end of this turn, once a frame was queued on an open link. */
  #flushTimer: TimerHandle | null = null;
  #awaitingDrain = false;

  constructor(self: NodeId, peer: NodeId, options: ResolvedTcpOptions, stats: TcpTransportStats) {
    this.#self = self;
    this.#peer = peer;
    this.#options = options;
    this.#stats = stats;
    this.#queue = new FrameQueue({
      messagesMax: options.queueMessagesMax,
      bytesMax: options.queueBytesMax,
    });
  }

  /** Frames waiting to be written. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /** Whether the handshake is complete and frames can flow. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Queues a frame and makes sure it will be written or the connection attempted. */
  enqueue(frame: Uint8Array): void {
    if (this.#state === 'closed') return;
    this.#stats.dropped.queueOverflow += this.#queue.push(frame);
    if (this.#state === 'idle') this.#connect();
    else if (this.#state === 'open') this.#scheduleFlush();
  }

  /** Dials now if nothing is connected or connecting, so the next frames find the link open. */
  connect(): void {
    if (this.#state === 'idle') this.#connect();
  }

  /** Called when discovery reports new addresses: a moved peer is dialled again at once. */
  addressChanged(address: PeerAddress | undefined): void {
    const current = this.#address;
    if (current === null || this.#socket === null) return;
    if (address?.host === current.host && address.port === current.port) return;
    this.#socket.destroy();
  }

  /** Closes the connection and cancels every timer; queued frames are discarded and counted. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#timer?.cancel();
    this.#timer = null;
    this.#flushTimer?.cancel();
    this.#flushTimer = null;
    this.#resolving?.abort();
    this.#socket?.destroy();
    this.#socket = null;
    this.#stats.dropped.stopped += this.#queue.clear();
  }

  #connect(): void {
    this.#state = 'connecting';
    const resolving = new AbortController();
    this.#resolving = resolving;
    this.#options.discovery.resolve(this.#peer, { signal: resolving.signal }).then(
      (address) => {
        if (this.#state !== 'connecting' || resolving.signal.aborted) return;
        this.#resolving = null;
        if (address === null) {
          this.#stats.dropped.noAddress += this.#queue.clear();
          this.#retryLater();
          return;
        }
        this.#dial(address);
      },
      () => {
        if (this.#state === 'connecting') this.#retryLater();
      },
    );
  }

  #dial(address: PeerAddress): void {
    this.#address = address;
    const socket = this.#openSocket(address);
    socket.setKeepAlive(true, this.#options.keepAliveMs);
    this.#socket = socket;
    this.#timer = this.#options.clock.schedule(this.#options.handshakeTimeoutMs, () => {
      socket.destroy();
    });
    const decoder = new FrameDecoder({ frameBytesMax: handshakeBytesMax });
    const handshake: DialHandshake = { nonce: newNonce(), context: null };
    const nonce = handshake.nonce;
    socket.once(this.#options.tls === null ? 'connect' : 'secureConnect', () => {
      socket.write(
        handshakeFrame({
          kind: 'hello',
          clusterId: this.#options.clusterId,
          from: this.#self,
          to: this.#peer,
          nonce,
        }),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of decoder.push(chunk))
          this.#onHandshake(socket, decodeHandshake(body), handshake);
      } catch (error) {
        // The peer broke the protocol or refused us; the close handler retries later.
        this.#options.logger.warn(
          { ...this.#fields(), reason: error instanceof Error ? error.message : String(error) },
          'handshake failed',
        );
        socket.destroy();
      }
    });
    // 'close' always follows an error, and that is where the link recovers.
    socket.on('error', () => undefined);
    socket.on('close', () => this.#onClose(socket));
  }

  #openSocket(address: PeerAddress): Socket {
    const tls = this.#options.tls;
    if (tls === null) {
      return connectTcp({ host: address.host, port: address.port, noDelay: true });
    }
    const peer = this.#peer;
    const socket = connectTls({
      host: address.host,
      port: address.port,
      key: tls.key,
      cert: tls.cert,
      ca: typeof tls.ca === 'string' || Buffer.isBuffer(tls.ca) ? tls.ca : [...tls.ca],
      // SNI may not carry an IP address.
      ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
      // The certificate must name the node we mean to reach, wherever it happens to listen.
      checkServerIdentity: (_host, certificate) =>
        certificateNames(certificate, peer)
          ? undefined
          : new Error(`certificate does not name node ${peer}`),
    });
    socket.setNoDelay(true);
    return socket;
  }

  #onHandshake(socket: Socket, frame: HandshakeFrame, handshake: DialHandshake): void {
    if (this.#state !== 'connecting') throw new Error('unexpected frame after the handshake');
    if (frame.kind === 'challenge' && handshake.context === null) {
      if (frame.serverId !== this.#peer) throw new Error('reached the wrong node');
      const secret = this.#options.secret;
      handshake.context = {
        clusterId: this.#options.clusterId,
        clientId: this.#self,
        serverId: this.#peer,
        clientNonce: handshake.nonce,
        serverNonce: frame.nonce,
      };
      const proof =
        secret === null ? new Uint8Array(0) : computeProof(secret, 'client', handshake.context);
      socket.write(handshakeFrame({ kind: 'proof', proof }));
    } else if (frame.kind === 'accept' && handshake.context !== null) {
      const secret = this.#options.secret;
      const expected =
        secret === null ? new Uint8Array(0) : computeProof(secret, 'server', handshake.context);
      if (!proofMatches(expected, frame.proof)) {
        // An impostor without the secret, or a member without one: either way, no messages.
        this.#stats.connections.refusedByPeer++;
        throw new Error('the peer did not prove it knows the cluster secret');
      }
      this.#opened();
    } else if (frame.kind === 'reject') {
      this.#stats.connections.refusedByPeer++;
      throw new Error(`refused by the peer: ${frame.code}`);
    } else {
      throw new Error(`unexpected ${frame.kind} frame`);
    }
  }

  #opened(): void {
    this.#state = 'open';
    this.#attempt = 0;
    this.#timer?.cancel();
    this.#timer = null;
    this.#stats.connections.opened++;
    this.#options.logger.info(this.#fields(), 'peer connected');
    this.#scheduleFlush();
  }

  /** Who this link talks to, for log lines. */
  #fields(): Record<string, unknown> {
    const address = this.#address;
    return {
      direction: 'outbound',
      peer: this.#peer,
      ...(address === null ? {} : { address: `${address.host}:${address.port}` }),
    };
  }

  #onClose(socket: Socket): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#awaitingDrain = false;
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#state === 'closed') return;
    this.#stats.connections.failed++;
    // Failed dials repeat with every backoff while a peer is down: they are debug lines.
    if (this.#state === 'open') this.#options.logger.info(this.#fields(), 'peer disconnected');
    else
      this.#options.logger.debug({ ...this.#fields(), attempt: this.#attempt }, 'connect failed');
    this.#retryLater();
  }

  #retryLater(): void {
    this.#state = 'backoff';
    const delayMs = backoffDelayMs(
      this.#attempt++,
      {
        delayMsMin: this.#options.reconnectDelayMsMin,
        delayMsMax: this.#options.reconnectDelayMsMax,
      },
      this.#options.random,
    );
    this.#timer = this.#options.clock.schedule(delayMs, () => {
      this.#timer = null;
      if (this.#state !== 'backoff') return;
      this.#state = 'idle';
      // Nothing to say means no reason to connect; the next message starts a new attempt.
      if (this.#queue.length > 0) this.#connect();
    });
  }

  // Messages sent in one turn of the event loop are written together, under one cork, so they
  // share system calls. The turn ends after every I/O callback it ran (and each one's microtasks):
  // a microtask would end it at the first callback, and a leader that heard from 100 clients in one
  // turn would write 100 times to each follower, waking it 100 times. Deferring to the turn's end
  // also lets what that turn answered locally (a client's reply) leave before the commit notices
  // it sent here. The clock's zero delay is `setImmediate`: no timer, no millisecond clamp.
  #scheduleFlush(): void {
    if (this.#flushTimer !== null || this.#awaitingDrain) return;
    this.#flushTimer = this.#options.clock.schedule(0, this.#flushScheduled);
  }

  /** Made once: a link flushes once per turn it has frames in, a closure each was measurable. */
  readonly #flushScheduled = (): void => {
    this.#flushTimer = null;
    this.#flush();
  };

  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== 'open' || socket === null) return;
    this.#stats.flushes++;
    socket.cork();
    // Small frames are copied into shared chunks: one write per frame costs far more than the copy.
    // The chunk is written by a module function, not a closure over it: a link flushes every turn
    // it has frames in, and the closure (and its context) was a visible share of a small write.
    let batch: Uint8Array | null = null;
    let batchLength = 0;
    const limit = this.#options.socketBufferBytesMax;
    while (this.#queue.length > 0 && socket.writableLength + batchLength < limit) {
      const frame = this.#queue.shift()!;
      this.#stats.written++;
      const alone = batch === null && this.#queue.length === 0;
      const unbatched = alone || frame.length >= coalesceBytesMax;
      // What is batched goes first, before a frame written on its own or one it has no room for.
      if (batch !== null && (unbatched || batchLength + frame.length > coalesceBytesMax)) {
        writeChunk(socket, batch, batchLength);
        batch = null;
        batchLength = 0;
      }
      if (unbatched) {
        socket.write(frame);
        continue;
      }
      // Sized for what is queued, so a short burst does not allocate a whole chunk.
      batch ??= new Uint8Array(Math.min(coalesceBytesMax, frame.length + this.#queue.bytes));
      batch.set(frame, batchLength);
      batchLength += frame.length;
    }
    if (batch !== null) writeChunk(socket, batch, batchLength);
    socket.uncork();
    if (this.#queue.length > 0) {
      // The socket is full: wait for it to drain rather than buffer without bound.
      this.#awaitingDrain = true;
      // A peer that stops reading, or vanished without a reset, would otherwise hold the link
      // until the kernel gives up on it, many minutes later.
      this.#timer = this.#options.clock.schedule(this.#options.writeStallTimeoutMs, () => {
        this.#timer = null;
        this.#stats.connections.stalled++;
        this.#options.logger.warn(this.#fields(), 'peer stopped reading; reconnecting');
        socket.destroy();
      });
      socket.once('drain', () => {
        this.#timer?.cancel();
        this.#timer = null;
        this.#awaitingDrain = false;
        this.#flush();
      });
    }
  }
}

/** Writes the first `length` bytes of a coalesced chunk; a chunk the loop filled exactly as is. */
function writeChunk(socket: Socket, chunk: Uint8Array, length: number): void {
  if (length > 0) socket.write(length === chunk.length ? chunk : chunk.subarray(0, length));
}
