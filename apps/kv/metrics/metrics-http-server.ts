import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The answer of a health or readiness check: whether it passes, and why not. */
export interface CheckResult {
  readonly ok: boolean;
  /** Each condition checked, by name, with what was found. */
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail: string }>>;
}

/** What the HTTP listener serves. */
export interface HttpEndpoints {
  /** The Prometheus text exposition. */
  readonly metrics: () => Promise<string>;
  /** Its content type (version 0.0.4 of the text format). */
  readonly metricsContentType: string;
  /** `/status`: the node's status as JSON. */
  readonly status: () => unknown;
  /** `/health`: the process is alive and its storage usable (a liveness probe). */
  readonly health: () => Promise<CheckResult>;
  /** `/ready`: the server knows a leader and has applied close to the commit (a readiness probe). */
  readonly ready: () => Promise<CheckResult>;
}

/**
 * A small HTTP listener: `GET /metrics` in Prometheus text format, `GET /status` as JSON, and the
 * probes `GET /health` and `GET /ready` (200 when they pass, 503 with the failing checks when not).
 * Anything else is 404; methods other than GET and HEAD are 405.
 */
export class MetricsHttpServer {
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;

  constructor(options: { readonly host: string; readonly port: number } & HttpEndpoints) {
    this.#host = options.host;
    this.#port = options.port;
    this.#server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      serve(path ?? '/', response, options).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(error instanceof Error ? error.message : String(error));
      });
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

async function serve(path: string, response: ServerResponse, endpoints: HttpEndpoints) {
  switch (path) {
    case '/metrics': {
      const text = await endpoints.metrics();
      response.writeHead(200, { 'content-type': endpoints.metricsContentType }).end(text);
      return;
    }
    case '/status':
      json(response, 200, endpoints.status());
      return;
    case '/health':
    case '/ready': {
      const result = await (path === '/health' ? endpoints.health() : endpoints.ready());
      json(response, result.ok ? 200 : 503, result);
      return;
    }
    default:
      response.writeHead(404).end();
  }
}

function json(response: ServerResponse, statusCode: number, body: unknown): void {
  response.writeHead(statusCode, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
