import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RespRequestLimits } from '../resp/resp-request-parser.js';
import { KvConnection } from './kv-connection.js';
import type { ServerContext } from './server-context.js';

/** Client connections held at once; more are refused so one host cannot exhaust the server. */
export const defaultConnectionsMax = 10_000;

/** The Redis-protocol listener: accepts connections and hands each to a {@link KvConnection}. */
export class KvServer {
  readonly #context: ServerContext;
  readonly #server: Server;
  readonly #connections = new Set<KvConnection>();
  readonly #connectionsMax: number;
  readonly #requestLimits: Partial<RespRequestLimits>;
  #nextConnectionId = 1;

  constructor(options: {
    readonly context: ServerContext;
    readonly connectionsMax?: number;
    readonly requestLimits?: Partial<RespRequestLimits>;
  }) {
    this.#context = options.context;
    this.#connectionsMax = options.connectionsMax ?? defaultConnectionsMax;
    this.#requestLimits = options.requestLimits ?? {};
    // Half-open: a client may finish sending (`printf … | nc`) and still read every reply.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound port (useful when listening on port 0). */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  #accept(socket: Socket): void {
    const metrics = this.#context.metrics;
    if (this.#connections.size >= this.#connectionsMax) {
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const connection = new KvConnection({
      socket,
      context: this.#context,
      id: this.#nextConnectionId++,
      requestLimits: this.#requestLimits,
    });
    this.#connections.add(connection);
    metrics.connectionsAccepted++;
    metrics.connectionsOpen++;
    void connection.closed.then(() => {
      this.#connections.delete(connection);
      metrics.connectionsOpen--;
    });
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections) connection.destroy();
    await closed;
  }
}
