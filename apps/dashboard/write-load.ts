import { RespClient } from '../kv/resp/resp-client.js';

/** How a write load runs. */
export interface WriteLoadOptions {
  /** Client addresses of the servers; each client sticks to one, round robin. */
  readonly servers: readonly string[];
  /** Concurrent clients, each with one write in flight. */
  readonly clients: number;
  /** Distinct keys written, so the state stays small however long the load runs. */
  readonly keys: number;
  /** How long one write may take before it counts as failed and the client reconnects. */
  readonly requestTimeoutMs: number;
}

export const writeLoadDefaults: WriteLoadOptions = Object.freeze({
  servers: [],
  clients: 8,
  keys: 1000,
  requestTimeoutMs: 2000,
});

/** Clients one load may run; beyond it a request is refused rather than swamping the machine. */
export const writeLoadClientsMax = 256;

/** What the load did in one sampling window. */
export interface WriteLoadSample {
  readonly atMs: number;
  readonly ok: number;
  readonly failed: number;
  /** Latencies of the acknowledged writes in the window, milliseconds; null when none. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** Latencies kept per window for the percentiles (a uniform sample of them beyond this). */
const windowLatenciesMax = 4096;
/** Pause before a client retries after a failed write, so a down server is not hammered. */
const retryPauseMs = 200;

/**
 * A bounded write load against the key-value servers: `clients` loops of `SET`, each waiting for
 * its reply before the next. The dashboard and `raftkit load` use it to show throughput and
 * commit latency moving while servers fail.
 */
export class WriteLoad {
  readonly #options: WriteLoadOptions;
  #running = false;
  #loops: Promise<void>[] = [];
  #ok = 0;
  #failed = 0;
  #latencies: number[] = [];
  #seen = 0;
  #sequence = 0;

  constructor(options: Partial<WriteLoadOptions> & Pick<WriteLoadOptions, 'servers'>) {
    const resolved = { ...writeLoadDefaults, ...options };
    if (resolved.servers.length === 0) throw new Error('a write load needs at least one server');
    for (const name of ['clients', 'keys', 'requestTimeoutMs'] as const) {
      if (!Number.isSafeInteger(resolved[name]) || resolved[name] <= 0) {
        throw new Error(`${name} must be a positive integer, got ${resolved[name]}`);
      }
    }
    if (resolved.clients > writeLoadClientsMax) {
      throw new Error(`clients must be at most ${writeLoadClientsMax}, got ${resolved.clients}`);
    }
    this.#options = resolved;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts the clients; a second call while running does nothing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loops = Array.from({ length: this.#options.clients }, (_, client) =>
      this.#clientLoop(this.#options.servers[client % this.#options.servers.length]!),
    );
  }

  /** Stops the clients and waits for their last writes to settle. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  /** What happened since the previous sample. */
  sample(atMs: number): WriteLoadSample {
    const sorted = this.#latencies.sort((left, right) => left - right);
    const percentile = (fraction: number): number | null =>
      sorted.length === 0
        ? null
        : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
    const sample = {
      atMs,
      ok: this.#ok,
      failed: this.#failed,
      p50Ms: percentile(0.5),
      p99Ms: percentile(0.99),
    };
    this.#ok = 0;
    this.#failed = 0;
    this.#latencies = [];
    this.#seen = 0;
    return sample;
  }

  async #clientLoop(server: string): Promise<void> {
    let client: RespClient | null = null;
    while (this.#running) {
      try {
        client ??= await RespClient.connect(server, this.#options.requestTimeoutMs);
        const key = `load:${this.#sequence++ % this.#options.keys}`;
        const started = performance.now();
        const reply = await this.#withTimeout(client.send(['SET', key, String(started)]));
        if (reply.type === 'error') throw new Error(reply.message);
        this.#ok++;
        this.#record(performance.now() - started);
      } catch {
        this.#failed++;
        client?.close();
        client = null;
        await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
      }
    }
    client?.close();
  }

  #record(latencyMs: number): void {
    this.#seen++;
    if (this.#latencies.length < windowLatenciesMax) {
      this.#latencies.push(latencyMs);
      return;
    }
    // Reservoir sampling keeps the percentiles honest without keeping every latency.
    const slot = Math.floor(Math.random() * this.#seen);
    if (slot < windowLatenciesMax) this.#latencies[slot] = latencyMs;
  }

  async #withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('write timed out')),
        this.#options.requestTimeoutMs,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
