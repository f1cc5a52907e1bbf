import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { KvConnection } from './kv-connection.js';
import type { ServerContext } from './server-context.js';

/** The Redis-protocol listener: accepts connections and hands each to a {@link KvConnection}. */
export class KvServer {
  readonly #context: ServerContext;
  readonly #server: Server;
  #nextConnectionId = 1;

  constructor(options: { readonly context: ServerContext }) {
    this.#context = options.context;
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
    const clients = this.#context.clients;
    // Refused so one host cannot exhaust the server (Redis's `maxclients`). Closed outright once
    // the error is written: a client that ignores it must not hold the socket half-open.
    if (clients.size >= this.#context.limits.connectionsMax) {
      socket.end('-ERR max number of clients reached\r\n', () => socket.destroy());
      return;
    }
    const connection = new KvConnection({
      socket,
      context: this.#context,
      id: this.#nextConnectionId++,
    });
    clients.add({ state: connection.state, close: () => connection.destroy() });
    metrics.connectionsAccepted++;
    metrics.connectionsOpen++;
    void connection.closed.then(() => {
      clients.remove(connection.state.id);
      metrics.connectionsOpen--;
    });
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#context.clients.kill(() => true);
    await closed;
  }
}
