import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { splitHostPort } from '../kv/cluster-layout.js';

/** Bytes a delayed direction may hold before it stops reading from its source (backpressure). */
export const delayedBytesMax = 4 * 1024 * 1024;
/** Connections one link carries at once; Raft dials one per direction, so this is generous. */
export const linkConnectionsMax = 64;
/** Most added latency, so a slow link can never hold bytes for longer than a fault lasts. */
export const linkDelayMsMax = 10_000;

/** A proxied connection: the dialer's socket and ours to the target. */
interface Pipe {
  readonly client: Socket;
  readonly upstream: Socket;
}

/**
 * One direction of one Raft link (`from` dials `to`) as a TCP proxy on loopback, so the network
 * between two real processes can be cut or slowed without privileges.
 *
 * A cut closes the link's connections and closes every new one at once, as a peer that refuses
 * connections would; the dialer reconnects with its own backoff after the link heals. A delay holds
 * every chunk for the given time, in order, in both directions of the connection.
 */
export class LinkProxy {
  readonly from: string;
  readonly to: string;
  readonly #target: { host: string; port: number };
  readonly #server: Server;
  readonly #pipes = new Set<Pipe>();
  #cut = false;
  #delayMs = 0;
  #address: string | null = null;

  constructor(options: { readonly from: string; readonly to: string; readonly target: string }) {
    this.from = options.from;
    this.to = options.to;
    this.#target = splitHostPort(options.target);
    this.#server = createServer((client) => this.#accept(client));
    this.#server.maxConnections = linkConnectionsMax;
  }

  /** `host:port` the dialer should use instead of the target's address, once started. */
  get address(): string {
    if (this.#address === null) throw new Error(`link ${this.from}->${this.to} is not started`);
    return this.#address;
  }

  /** Whether the link is cut. */
  get isCut(): boolean {
    return this.#cut;
  }

  /** Listens on an ephemeral loopback port. */
  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    const bound = this.#server.address();
    if (bound === null || typeof bound === 'string') throw new Error('proxy has no TCP address');
    this.#address = `127.0.0.1:${bound.port}`;
  }

  /** Cuts the link (true) or heals it (false). */
  setCut(cut: boolean): void {
    this.#cut = cut;
    if (cut) for (const pipe of this.#pipes) this.#close(pipe);
  }

  /** Adds `delayMs` of latency to bytes that arrive from now on (0 removes it). */
  setDelay(delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > linkDelayMsMax) {
      throw new RangeError(`delay must be between 0 and ${linkDelayMsMax} ms, got ${delayMs}`);
    }
    this.#delayMs = delayMs;
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    for (const pipe of this.#pipes) this.#close(pipe);
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = connect(this.#target);
    const pipe: Pipe = { client, upstream };
    this.#pipes.add(pipe);
    this.#forward(client, upstream);
    this.#forward(upstream, client);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on('error', () => this.#close(pipe));
      socket.on('close', () => this.#close(pipe));
    }
  }

  /** Copies `source` to `sink`, through a delay queue while the link is slow. */
  #forward(source: Socket, sink: Socket): void {
    const queue: { releaseAtMs: number; chunk: Buffer }[] = [];
    let queuedBytes = 0;
    let timer: NodeJS.Timeout | null = null;
    const drain = (): void => {
      timer = null;
      const nowMs = performance.now();
      while (queue.length > 0 && queue[0]!.releaseAtMs <= nowMs) {
        const { chunk } = queue.shift()!;
        queuedBytes -= chunk.length;
        if (!sink.destroyed) sink.write(chunk);
      }
      if (queuedBytes < delayedBytesMax && source.isPaused()) source.resume();
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.releaseAtMs - nowMs);
    };
    source.on('data', (chunk: Buffer) => {
      // Bytes already queued go first, whatever the current delay, so the stream keeps its order.
      if (this.#delayMs === 0 && queue.length === 0) {
        if (!sink.write(chunk)) {
          source.pause();
          sink.once('drain', () => source.resume());
        }
        return;
      }
      queue.push({ releaseAtMs: performance.now() + this.#delayMs, chunk });
      queuedBytes += chunk.length;
      if (queuedBytes >= delayedBytesMax) source.pause();
      timer ??= setTimeout(drain, this.#delayMs);
    });
    source.on('close', () => {
      if (timer !== null) clearTimeout(timer);
    });
  }

  #close(pipe: Pipe): void {
    if (!this.#pipes.delete(pipe)) return;
    pipe.client.destroy();
    pipe.upstream.destroy();
  }
}
