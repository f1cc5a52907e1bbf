import { setTimeout as sleep } from 'node:timers/promises';
import type { RandomSource } from 'raftkit/core';
import type { ReadConsistency } from 'raftkit';
import { RespClient } from '../kv/resp/resp-client.js';
import type { RespValue } from '../kv/resp/resp-reply-parser.js';
import type { HistoryOperationName, RunHistory } from './history.js';

/**
 * Error codes with which the server promises that a write never took effect (it retried those
 * itself until its deadline). Any other error, a timeout or a lost connection leaves the outcome
 * unknown.
 */
const definitelyRefusedCodes: ReadonlySet<string> = new Set([
  'NO_LEADER',
  'NOT_LEADER',
  'PROPOSAL_DROPPED',
  'BUSY',
]);

/** How the workload behaves. */
export interface WorkloadOptions {
  /** The servers and their client addresses; each client talks to one at a time. */
  readonly servers: readonly { readonly id: string; readonly address: string }[];
  readonly clients: number;
  /** Read modes, handed to clients in turn. */
  readonly readModes: readonly ReadConsistency[];
  /** Keys in use at once. */
  readonly activeKeys: number;
  /** Operations on one key before it is retired for a fresh one; keeps each key's history short. */
  readonly operationsPerKeyMax: number;
  /** Mean pause between one client's operations, which sets the load. */
  readonly thinkMsMean: number;
  /** A request unanswered this long has an unknown outcome. */
  readonly requestTimeoutMs: number;
  readonly random: RandomSource;
  readonly history: RunHistory;
}

/**
 * Keys in use: each takes a bounded number of operations and is then replaced by a fresh one, so
 * a long run is many short independent histories (one per key) rather than a few endless ones.
 */
class KeyPool {
  readonly #active: { key: string; operations: number }[] = [];
  readonly #operationsMax: number;
  readonly #all: string[] = [];

  constructor(size: number, operationsMax: number) {
    this.#operationsMax = operationsMax;
    for (let slot = 0; slot < size; slot++) this.#active.push(this.#fresh());
  }

  /** Every key used so far. */
  get all(): readonly string[] {
    return this.#all;
  }

  take(random: RandomSource): string {
    const slot = Math.floor(random() * this.#active.length);
    const entry = this.#active[slot]!;
    entry.operations++;
    if (entry.operations >= this.#operationsMax) this.#active[slot] = this.#fresh();
    return entry.key;
  }

  #fresh(): { key: string; operations: number } {
    const key = `chaos:${this.#all.length}`;
    this.#all.push(key);
    return { key, operations: 0 };
  }
}

/** One client number: a connection to one server with one read mode. */
export interface ClientSession {
  readonly client: number;
  readonly server: string;
  readonly readMode: ReadConsistency;
}

/** Result of one request: a reply, or nothing known. */
type Attempt = { readonly reply: RespValue } | { readonly unknown: string };

/**
 * Concurrent clients issuing get / put / append on many keys and recording every operation's
 * invocation and completion in the run's history.
 */
export class Workload {
  readonly #options: WorkloadOptions;
  readonly #keys: KeyPool;
  #running = false;
  #nextProcess = 0;
  readonly #sessions: ClientSession[] = [];
  /** Makes every written value unique, so a read names the writes it saw. */
  #nextValue = 0;
  #clients: Promise<void>[] = [];

  constructor(options: WorkloadOptions) {
    this.#options = options;
    this.#keys = new KeyPool(options.activeKeys, options.operationsPerKeyMax);
  }

  /** Every key the workload used. */
  get keys(): readonly string[] {
    return this.#keys.all;
  }

  /** A new client number, talking to `server` in `readMode` (also for reads outside the workload). */
  newProcess(server: string, readMode: ReadConsistency): number {
    const client = this.#nextProcess++;
    this.#sessions.push({ client, server, readMode });
    return client;
  }

  /** Which server and read mode each client number used, for reading a history. */
  get sessions(): readonly ClientSession[] {
    return this.#sessions;
  }

  start(): void {
    this.#running = true;
    this.#clients = Array.from({ length: this.#options.clients }, (_, slot) =>
      this.#runClient(slot),
    );
  }

  /** Lets every client finish its operation in flight, then returns. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#clients);
  }

  async #runClient(slot: number): Promise<void> {
    const options = this.#options;
    const mode = options.readModes[slot % options.readModes.length]!;
    let session: { readonly process: number; readonly connection: RespClient } | null = null;
    while (this.#running) {
      session ??= await this.#connect(mode);
      if (session === null) {
        await sleep(100);
        continue;
      }
      const outcome = await this.#operate(session.process, session.connection);
      if (outcome !== 'ok') {
        // The old connection may still deliver a late reply, and a client with an operation of
        // unknown outcome cannot issue another one as the same sequential process: the next
        // connection is a new process.
        session.connection.close();
        session = null;
      }
      await sleep(options.random() * 2 * options.thinkMsMean);
    }
    session?.connection.close();
  }

  /** Connects to a server chosen at random and sets the connection's read mode. */
  async #connect(
    mode: ReadConsistency,
  ): Promise<{ readonly process: number; readonly connection: RespClient } | null> {
    const servers = this.#options.servers;
    const server = servers[Math.floor(this.#options.random() * servers.length)]!;
    try {
      const connection = await RespClient.connect(server.address, 1000);
      const answer = await withTimeout(
        connection.send(['RAFT', 'CONSISTENCY', mode]),
        this.#options.requestTimeoutMs,
      );
      if (!('reply' in answer) || answer.reply.type !== 'simple') {
        connection.close();
        return null;
      }
      return { process: this.newProcess(server.id, mode), connection };
    } catch {
      return null;
    }
  }

  /** Issues one operation; `refused` and `unknown` ask for a fresh connection. */
  async #operate(process: number, client: RespClient): Promise<'ok' | 'refused' | 'unknown'> {
    const options = this.#options;
    const key = this.#keys.take(options.random);
    const draw = options.random();
    const op: HistoryOperationName = draw < 0.4 ? 'get' : draw < 0.85 ? 'append' : 'put';
    const sequence = this.#nextValue++;
    const value = op === 'append' ? `${process}.${sequence},` : `p${process}.${sequence},`;
    const args = op === 'get' ? ['GET', key] : [op === 'put' ? 'SET' : 'APPEND', key, value];
    const call = options.history.now();
    const answer = await withTimeout(client.send(args), options.requestTimeoutMs);
    const returned = options.history.now();
    const base = { client: process, op, key, ...(op === 'get' ? {} : { value }), call };
    if ('unknown' in answer) {
      // A read that got no answer had no effect either way; listing it as unknown is harmless.
      options.history.add({ ...base, return: null });
      return 'unknown';
    }
    const reply = answer.reply;
    if (reply.type === 'error') {
      const code = reply.message.split(' ', 1)[0]!;
      if (op === 'get' || definitelyRefusedCodes.has(code)) {
        options.history.refused();
        return 'refused';
      }
      options.history.add({ ...base, return: null });
      return 'unknown';
    }
    if (op === 'get') {
      if (reply.type !== 'bulk') throw new Error(`GET answered ${reply.type}`);
      const output = reply.value === null ? null : reply.value.toString('utf8');
      options.history.add({ ...base, output, return: returned });
    } else {
      options.history.add({ ...base, return: returned });
    }
    return 'ok';
  }
}

/** Waits for `request` at most `timeoutMs`; a rejection (connection lost) is unknown too. */
async function withTimeout(request: Promise<RespValue>, timeoutMs: number): Promise<Attempt> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Attempt>((resolve) => {
    timer = setTimeout(() => resolve({ unknown: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([
      request.then(
        (reply): Attempt => ({ reply }),
        (error: unknown): Attempt => ({ unknown: String(error) }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
