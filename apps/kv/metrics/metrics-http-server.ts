import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP server: `GET /metrics` in Prometheus text format and `GET /status` as JSON, for
 * scrapers and the CLI. Anything else is 404.
 */
export class MetricsHttpServer {
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;

  constructor(options: {
    readonly host: string;
    readonly port: number;
    readonly metrics: () => string;
    readonly status: () => unknown;
  }) {
    this.#host = options.host;
    this.#port = options.port;
    this.#server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET') {
        response.writeHead(405).end();
      } else if (path === '/metrics') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        response.end(options.metrics());
      } else if (path === '/status') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(options.status()));
      } else {
        response.writeHead(404).end();
      }
    });
    // Scrapers keep connections alive; closing must not wait for them.
    this.#server.keepAliveTimeout = 5000;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound port (useful when started on port 0). */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
