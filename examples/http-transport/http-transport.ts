import { timingSafeEqual } from 'node:crypto';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Message, MessageHandler, NodeId, Transport } from 'raftkit';
import { FrameDecoder, decodeMessage, encodeFrame } from 'raftkit/codec';
import type { Discovery } from 'raftkit/discovery';

/** Options for {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** Where peers listen: their HTTP server's host and port. */
  readonly discovery: Discovery;
  /** The route that carries Raft traffic on every member's server. */
  readonly path?: string;
  /** Sent as a bearer token and required from every sender; use HTTPS if the network is shared. */
  readonly token?: string;
  /** Messages waiting for one peer; beyond it the oldest are dropped (Raft retransmits). */
  readonly queueMessagesMax?: number;
  /** Messages carried by one POST. */
  readonly batchMessagesMax?: number;
  /** Largest request body accepted. */
  readonly requestBytesMax?: number;
  /** Time one POST may take before it is abandoned. */
  readonly requestTimeoutMs?: number;
}

const defaults = {
  path: '/raft/messages',
  queueMessagesMax: 4096,
  batchMessagesMax: 256,
  requestBytesMax: 64 * 1024 * 1024,
  requestTimeoutMs: 5000,
};

/** Counters of one {@link HttpTransport}. */
export interface HttpTransportStats {
  sent: number;
  received: number;
  /** Messages dropped: queue overflow, unencodable, unknown peer, failed POST, or not running. */
  dropped: number;
  /** Requests refused: bad token, too large, undecodable, or misaddressed. */
  rejected: number;
}

/**
 * Raft messages over an HTTP server the application already runs: one POST route carries a batch
 * of length-prefixed frames (the raftkit codec) from one member to another. It is an example of
 * bringing your own channel; it passes the same transport contract as the built-in transports.
 *
 * ```ts
 * const transport = new HttpTransport({ discovery, token: process.env.RAFT_TOKEN });
 * http.createServer((request, response) => {
 *   if (transport.handle(request, response)) return;
 *   // ... the application's own routes
 * });
 * ```
 */
export class HttpTransport implements Transport {
  readonly #options: Required<Omit<HttpTransportOptions, 'token'>> & { token: string | null };
  // Keep-alive reuses a connection per peer; one POST in flight per peer bounds the sockets.
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #queues = new Map<NodeId, Uint8Array[]>();
  readonly #inFlight = new Set<NodeId>();
  readonly #stats: HttpTransportStats = { sent: 0, received: 0, dropped: 0, rejected: 0 };
  #self: NodeId | null = null;
  #handler: MessageHandler | null = null;
  #flushScheduled = false;

  constructor(options: HttpTransportOptions) {
    this.#options = { ...defaults, ...options, token: options.token ?? null };
  }

  /** A copy of the counters. */
  stats(): HttpTransportStats {
    return { ...this.#stats };
  }

  start(self: NodeId, handler: MessageHandler): Promise<void> {
    this.#self = self;
    this.#handler = handler;
    return Promise.resolve();
  }

  send(message: Message): void {
    this.#stats.sent++;
    if (this.#self === null || message.from !== this.#self) {
      this.#stats.dropped++;
      return;
    }
    let frame: Uint8Array;
    try {
      frame = encodeFrame(message);
    } catch {
      this.#stats.dropped++;
      return;
    }
    const queue = this.#queues.get(message.to) ?? [];
    this.#queues.set(message.to, queue);
    queue.push(frame);
    if (queue.length > this.#options.queueMessagesMax) {
      queue.shift();
      this.#stats.dropped++;
    }
    this.#scheduleFlush();
  }

  stop(): Promise<void> {
    this.#self = null;
    this.#handler = null;
    for (const queue of this.#queues.values()) this.#stats.dropped += queue.length;
    this.#queues.clear();
    this.#agent.destroy();
    return Promise.resolve();
  }

  /**
   * Handles the Raft route; returns false for any other request, which the application then
   * serves itself. Answers 204 once the batch is delivered, 4xx/5xx when it is refused.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.url !== this.#options.path) return false;
    if (request.method !== 'POST') return this.#refuse(response, 405);
    if (this.#self === null) return this.#refuse(response, 503);
    if (!this.#authorized(request.headers.authorization)) return this.#refuse(response, 401);
    const decoder = new FrameDecoder();
    const messages: Message[] = [];
    let bytes = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      bytes += chunk.length;
      try {
        if (bytes > this.#options.requestBytesMax) throw new Error('request too large');
        const view = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
        for (const body of decoder.push(view)) messages.push(decodeMessage(body));
      } catch {
        failed = true;
        this.#refuse(response, 400);
        request.destroy();
      }
    });
    request.on('end', () => {
      if (failed) return;
      if (decoder.bufferedBytes > 0) return void this.#refuse(response, 400);
      // Deliver only a batch that decoded completely: never half of one.
      for (const message of messages) this.#deliver(message);
      response.statusCode = 204;
      response.end();
    });
    return true;
  }

  #authorized(header: string | undefined): boolean {
    const token = this.#options.token;
    if (token === null) return true;
    const expected = Buffer.from(`Bearer ${token}`);
    const received = Buffer.from(header ?? '');
    return expected.length === received.length && timingSafeEqual(expected, received);
  }

  #refuse(response: ServerResponse, status: number): true {
    this.#stats.rejected++;
    response.statusCode = status;
    response.end();
    return true;
  }

  #deliver(message: Message): void {
    const handler = this.#handler;
    if (handler === null || message.to !== this.#self) {
      this.#stats.rejected++;
      return;
    }
    this.#stats.received++;
    handler(message);
  }

  // Messages sent in the same turn travel in one POST.
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      for (const peer of this.#queues.keys()) void this.#post(peer);
    });
  }

  async #post(peer: NodeId): Promise<void> {
    const queue = this.#queues.get(peer);
    if (queue === undefined || queue.length === 0 || this.#inFlight.has(peer)) return;
    this.#inFlight.add(peer);
    const batch = queue.splice(0, this.#options.batchMessagesMax);
    try {
      const address = await this.#options.discovery.resolve(peer);
      if (address === null) throw new Error(`no address for ${peer}`);
      await this.#request(address.host, address.port, batch);
    } catch {
      this.#stats.dropped += batch.length;
    } finally {
      this.#inFlight.delete(peer);
    }
    if (this.#self !== null && (this.#queues.get(peer)?.length ?? 0) > 0) void this.#post(peer);
  }

  #request(host: string, port: number, batch: Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (this.#options.token !== null) headers.authorization = `Bearer ${this.#options.token}`;
      const outgoing = request(
        {
          host,
          port,
          path: this.#options.path,
          method: 'POST',
          headers,
          agent: this.#agent,
          timeout: this.#options.requestTimeoutMs,
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 204
              ? resolve()
              : reject(new Error(`status ${String(response.statusCode)}`)),
          );
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('request timed out')));
      outgoing.on('error', reject);
      for (const frame of batch) outgoing.write(frame);
      outgoing.end();
    });
  }
}
