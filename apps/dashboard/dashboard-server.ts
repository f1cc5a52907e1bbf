import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollCluster, type MemberAddress } from './cluster-poller.js';
import {
  clusterLeader,
  flowEdges,
  serverViews,
  timelineEvents,
  type ClusterPoll,
  type FlowEdge,
  type TimelineEvent,
} from './cluster-view.js';
import type { WriteLoadSample } from './write-load.js';

/**
 * What a person can do from the page. Each action answers with a line of text for the timeline,
 * or throws with the reason. `target` is the server the action is about, when it is about one.
 */
export type DashboardAction = (target: string | null) => Promise<string>;

/** The cluster the dashboard watches and steers. */
export interface DashboardCluster {
  /** The members to poll; read each time, so added and removed servers appear. */
  members(): readonly MemberAddress[];
  /** The actions offered, by name (`stop`, `start`, `partition`, `heal`, `transfer`, …). */
  readonly actions: Readonly<Record<string, DashboardAction>>;
  /** The write load's counts since the last call, or null when no load is running. */
  sampleLoad(atMs: number): WriteLoadSample | null;
}

/** One point of the throughput and latency charts. */
export interface ChartPoint {
  readonly atMs: number;
  readonly writesPerSecond: number | null;
  readonly failedPerSecond: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly commitsPerSecond: number | null;
}

/** What every connected page receives after each poll. */
export interface DashboardState {
  readonly atMs: number;
  readonly servers: ReturnType<typeof serverViews>;
  readonly leaderId: string | null;
  readonly term: number | null;
  readonly flow: readonly FlowEdge[];
  readonly timeline: readonly TimelineEvent[];
  readonly chart: readonly ChartPoint[];
  readonly actions: readonly string[];
}

export interface DashboardServerOptions {
  readonly cluster: DashboardCluster;
  readonly host?: string;
  readonly port?: number;
  /** Milliseconds between polls of the servers. Default 500. */
  readonly pollIntervalMs?: number;
}

/** Pages connected at once; one more is refused with 503. */
export const dashboardClientsMax = 32;
/** Timeline events kept (newest last). */
export const timelineEventsMax = 200;
/** Chart points kept: two minutes at the default poll interval. */
export const chartPointsMax = 240;
/** Bytes of an action request body accepted. */
const actionBodyBytesMax = 4096;

const staticFiles: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * The live dashboard: serves a page (plain files, no build step), polls every server's
 * `/status`, and pushes the cluster's state to each page over Server-Sent Events. Actions arrive
 * as `POST /api/actions/<name>` with `{"target": "<id>"}`.
 */
export class DashboardServer {
  readonly #cluster: DashboardCluster;
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  readonly #pollIntervalMs: number;
  readonly #clients = new Set<ServerResponse>();
  readonly #timeline: TimelineEvent[] = [];
  readonly #chart: ChartPoint[] = [];
  #previous: ClusterPoll | null = null;
  #state: DashboardState | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> = Promise.resolve();

  constructor(options: DashboardServerOptions) {
    this.#cluster = options.cluster;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#server = createServer((request, response) => {
      this.#route(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
        }
        response.end(JSON.stringify({ error: messageOf(error) }));
      });
    });
  }

  /** Listens and starts polling. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#schedulePoll(0);
  }

  /** The page's address. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://${this.#host}:${port}/`;
  }

  /** The state most recently pushed to pages. */
  get state(): DashboardState | null {
    return this.#state;
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#polling;
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #schedulePoll(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#polling = this.#poll().finally(() => {
        if (this.#timer !== null) this.#schedulePoll(this.#pollIntervalMs);
      });
    }, delayMs);
  }

  async #poll(): Promise<void> {
    const poll = await pollCluster(this.#cluster.members());
    const previous = this.#previous;
    this.#previous = poll;
    if (previous !== null) {
      this.#remember(timelineEvents(previous, poll));
      this.#chart.push(chartPoint(previous, poll, this.#cluster.sampleLoad(poll.atMs)));
      if (this.#chart.length > chartPointsMax) this.#chart.shift();
    }
    const leader = clusterLeader(poll);
    this.#state = {
      atMs: poll.atMs,
      servers: serverViews(poll),
      leaderId: leader?.id ?? null,
      term: leader?.term ?? null,
      flow: previous === null ? [] : flowEdges(previous, poll),
      timeline: this.#timeline,
      chart: this.#chart,
      actions: Object.keys(this.#cluster.actions),
    };
    const frame = `event: state\ndata: ${JSON.stringify(this.#state)}\n\n`;
    for (const client of this.#clients) client.write(frame);
  }

  #remember(events: readonly TimelineEvent[]): void {
    this.#timeline.push(...events);
    if (this.#timeline.length > timelineEventsMax) {
      this.#timeline.splice(0, this.#timeline.length - timelineEventsMax);
    }
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const page = staticFiles[path];
    if (request.method === 'GET' && page !== undefined) {
      response.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store' });
      response.end(readFileSync(new URL(`./public/${page.file}`, import.meta.url)));
      return;
    }
    if (request.method === 'GET' && path === '/events') {
      this.#subscribe(request, response);
      return;
    }
    if (request.method === 'GET' && path === '/api/state') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(this.#state));
      return;
    }
    const actionName = /^\/api\/actions\/([a-z-]+)$/.exec(path)?.[1];
    if (request.method === 'POST' && actionName !== undefined) {
      await this.#act(actionName, request, response);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: `no such page ${path}` }));
  }

  #subscribe(request: IncomingMessage, response: ServerResponse): void {
    if (this.#clients.size >= dashboardClientsMax) {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `at most ${dashboardClientsMax} pages at once` }));
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    if (this.#state !== null) {
      response.write(`event: state\ndata: ${JSON.stringify(this.#state)}\n\n`);
    }
    this.#clients.add(response);
    request.on('close', () => this.#clients.delete(response));
  }

  async #act(name: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const action = this.#cluster.actions[name];
    if (action === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `no action ${name}` }));
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = await readBody(request);
    } catch (error) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error: messageOf(error) }));
      return;
    }
    const target = typeof body.target === 'string' ? body.target : null;
    const text = `${name}${target === null ? '' : ' ' + target}`;
    try {
      const result = await action(target);
      this.#remember([{ atMs: Date.now(), kind: 'action', text: `${text}: ${result}`, rows: [] }]);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, message: result }));
    } catch (error) {
      const message = messageOf(error);
      this.#remember([
        { atMs: Date.now(), kind: 'action', text: `${text} failed: ${message}`, rows: [] },
      ]);
      response.writeHead(409, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error: message }));
    }
  }
}

function chartPoint(
  previous: ClusterPoll,
  next: ClusterPoll,
  load: WriteLoadSample | null,
): ChartPoint {
  const seconds = (next.atMs - previous.atMs) / 1000;
  const before = clusterLeader(previous);
  const after = clusterLeader(next);
  const commits =
    before !== null && after !== null && seconds > 0
      ? Math.max(0, after.commitIndex - before.commitIndex) / seconds
      : null;
  return {
    atMs: next.atMs,
    writesPerSecond: load === null || seconds <= 0 ? null : load.ok / seconds,
    failedPerSecond: load === null || seconds <= 0 ? null : load.failed / seconds,
    p50Ms: load?.p50Ms ?? null,
    p99Ms: load?.p99Ms ?? null,
    commitsPerSecond: commits,
  };
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > actionBodyBytesMax)
      throw new Error(`request body over ${actionBodyBytesMax} bytes`);
    chunks.push(chunk);
  }
  if (bytes === 0) return {};
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null)
    throw new Error('the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
