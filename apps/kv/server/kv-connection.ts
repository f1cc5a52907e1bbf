import { once } from 'node:events';
import type { Socket } from 'node:net';
import type { CommandArguments, WriteOperation } from '../state/write-batch-codec.js';
import { watchQueryName } from '../state/kv-state-machine.js';
import { RespRequestParser } from '../resp/resp-request-parser.js';
import { errorReply, okReply } from '../resp/resp-writer.js';
import { runLocalCommand } from './local-commands.js';
import { raftErrorReply } from './leader-replies.js';
import { RequestPlanner, type Planned } from './request-planner.js';
import type { ConnectionState, ServerContext } from './server-context.js';

/** Requests that run together: one proposal, one read, one WATCH, or local commands in a row. */
/** Commands a server answers while its node is still starting: they need neither node nor data. */
const beforeStartCommands = new Set(['PING', 'ECHO', 'AUTH', 'HELLO']);

function answersBeforeStart(run: Run): boolean {
  return (
    run.kind === 'local' &&
    run.requests.every(
      (request) =>
        request.kind === 'answer' ||
        (request.kind === 'local' && beforeStartCommands.has(request.name)),
    )
  );
}

/** How many replies a run owes. */
function replyCount(run: Run): number {
  switch (run.kind) {
    case 'watch':
      return 1;
    case 'local':
      return run.requests.length;
    default:
      return run.operations.length;
  }
}

/** The error's reply once for each of `count` requests that shared its fate. */
function errorReplies(error: unknown, count: number): Buffer {
  const reply = raftErrorReply(error);
  return Buffer.concat(Array.from({ length: count }, () => reply));
}

type Run =
  | { readonly kind: 'write'; readonly operations: readonly WriteOperation[] }
  | { readonly kind: 'read'; readonly operations: readonly CommandArguments[] }
  | { readonly kind: 'watch'; readonly keys: readonly Buffer[] }
  | { readonly kind: 'local'; readonly requests: readonly Planned[] };

/** What one WATCHed key costs in a transaction's log entry besides its bytes. */
const watchedKeyOverheadBytes = 12;

/**
 * One client connection. Requests are parsed as they stream in and run in arrival order; runs of
 * consecutive writes become one proposal and runs of consecutive reads one read, so a pipelining
 * client pays for one replication round per run instead of one per request. A run starts only
 * when the previous one has answered, which keeps replies in request order and lets a read see
 * every write the same connection sent before it.
 */
export class KvConnection {
  readonly #socket: Socket;
  readonly #context: ServerContext;
  readonly #parser: RespRequestParser;
  readonly #planner: RequestPlanner;
  /** What the connection remembers between requests (CLIENT LIST shows it). */
  readonly state: ConnectionState;
  #queue: Planned[] = [];
  #running = false;
  #closed = false;
  #onClosed: () => void = () => undefined;
  /** Resolves when the connection is closed, however that happened. */
  readonly closed: Promise<void> = new Promise((resolve) => {
    this.#onClosed = resolve;
  });
  /** The stream broke the protocol: nothing more is read, the queue is answered, then close. */
  #broken = false;
  /** The client finished sending (half-close): answer what it sent, then close. */
  #inputEnded = false;

  constructor(options: {
    readonly socket: Socket;
    readonly context: ServerContext;
    readonly id: number;
  }) {
    const { socket, context } = options;
    this.#socket = socket;
    this.#context = context;
    this.#parser = new RespRequestParser(context.requestLimits);
    const nowMs = Date.now();
    this.state = {
      id: options.id,
      address: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`,
      localAddress: `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`,
      createdAtMs: nowMs,
      consistency: context.defaultConsistency,
      name: null,
      authenticated: context.password === null,
      watched: new Map(),
      watchedKeyBytes: 0,
      inTransaction: false,
      lastCommand: null,
      lastActivityMs: nowMs,
      closing: false,
    };
    this.#planner = new RequestPlanner(context, this.state);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => {
      this.#inputEnded = true;
      if (!this.#running) this.#kick();
    });
    socket.on('error', () => this.#close());
    socket.on('close', () => this.#close());
    if (context.limits.idleTimeoutMs > 0) {
      socket.setTimeout(context.limits.idleTimeoutMs);
      // Idle means no traffic and nothing running: a blocked WAIT or a slow commit is not idle.
      socket.on('timeout', () => {
        if (!this.#running && this.#queue.length === 0) this.destroy();
      });
    }
  }

  /** Closes at once; requests in flight still finish in the node but their replies are dropped. */
  destroy(): void {
    this.#socket.destroy();
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#onClosed();
  }

  #receive(chunk: Buffer): void {
    if (this.#closed || this.#broken || this.state.closing) return;
    const { requests, error } = this.#parser.push(chunk);
    for (const args of requests) this.#queue.push(this.#planner.plan(args));
    if (error !== null) {
      // The stream cannot be framed any more: answer what came before, then close.
      this.#context.metrics.protocolErrors++;
      this.#broken = true;
      this.#queue.push({
        kind: 'answer',
        reply: errorReply(`ERR ${error.message}`),
        thenClose: true,
      });
      this.#socket.pause();
    }
    if (this.#queue.length >= this.#context.limits.queuedRequestsMax) this.#socket.pause();
    this.#kick();
  }

  #kick(): void {
    if (this.#running || this.#closed) return;
    if (this.#queue.length === 0) {
      if (this.#inputEnded) this.#socket.end();
      return;
    }
    this.#running = true;
    this.#drain().then(
      () => {
        this.#running = false;
      },
      () => {
        this.#running = false;
        this.destroy();
      },
    );
  }

  async #drain(): Promise<void> {
    const limits = this.#context.limits;
    while (this.#queue.length > 0 && !this.#closed) {
      const reply = await this.#execute(this.#takeRun());
      if (this.#closed) return;
      this.#socket.write(reply);
      if (this.state.closing) break;
      if (this.#socket.isPaused() && !this.#broken) {
        if (this.#queue.length < limits.queuedRequestsMax / 2) this.#socket.resume();
      }
      if (this.#socket.writableLength > limits.pendingReplyBytesMax) {
        // The client does not read its replies: stop taking its requests until it does.
        await Promise.race([once(this.#socket, 'drain'), this.closed]);
      }
    }
    if ((this.state.closing || this.#inputEnded) && !this.#closed) this.#socket.end();
  }

  /** Takes the longest run of same-kind requests from the queue's head, within the limits. */
  #takeRun(): Run {
    const first = this.#queue[0]!;
    const limits = this.#context.limits;
    if (first.kind === 'watch') {
      this.#queue.shift();
      return { kind: 'watch', keys: first.keys };
    }
    if (first.kind === 'local' || first.kind === 'answer') {
      let count = 0;
      while (count < this.#queue.length && count < limits.batchOperationsMax) {
        const kind = this.#queue[count]!.kind;
        if (kind !== 'local' && kind !== 'answer') break;
        count++;
      }
      return { kind: 'local', requests: this.#queue.splice(0, count) };
    }
    if (first.kind === 'read') {
      let count = 0;
      while (count < this.#queue.length && count < limits.batchOperationsMax) {
        if (this.#queue[count]!.kind !== 'read') break;
        count++;
      }
      const reads = this.#queue.splice(0, count) as Extract<Planned, { kind: 'read' }>[];
      return { kind: 'read', operations: reads.map((read) => read.args) };
    }
    const operations: WriteOperation[] = [];
    let bytes = 0;
    while (
      operations.length < this.#queue.length &&
      operations.length < limits.batchOperationsMax
    ) {
      const next = this.#queue[operations.length]!;
      if (next.kind !== 'write') break;
      if (operations.length > 0 && bytes + next.bytes > limits.batchBytesMax) break;
      bytes += next.bytes;
      operations.push(
        next.withWatches === true ? this.#bindWatches(next.operation) : next.operation,
      );
    }
    this.#queue.splice(0, operations.length);
    return { kind: 'write', operations };
  }

  /** EXEC takes the keys WATCHed so far into its transaction and stops watching them. */
  #bindWatches(operation: WriteOperation): WriteOperation {
    if (operation.kind !== 'transaction') return operation;
    const watched = [...this.state.watched].map(([key, index]) => ({
      key: Buffer.from(key, 'latin1'),
      index,
    }));
    this.#unwatch();
    return { ...operation, watched };
  }

  #unwatch(): void {
    this.state.watched.clear();
    this.state.watchedKeyBytes = 0;
  }

  async #execute(run: Run): Promise<Uint8Array> {
    const starting = this.#context.starting();
    if (starting !== null && !answersBeforeStart(run)) {
      try {
        await starting;
      } catch (error) {
        return errorReplies(error, replyCount(run));
      }
    }
    switch (run.kind) {
      case 'local':
        return this.#executeLocal(run.requests);
      case 'watch':
        return this.#watch(run.keys);
      default:
        break;
    }
    const executor = this.#context.executor;
    try {
      return run.kind === 'write'
        ? await executor.write(run.operations)
        : await executor.read(run.operations, this.state.consistency);
    } catch (error) {
      // Every operation of the run shared one proposal (or one read), so they share its fate.
      return errorReplies(error, run.operations.length);
    }
  }

  async #executeLocal(requests: readonly Planned[]): Promise<Uint8Array> {
    const replies: Uint8Array[] = [];
    for (const request of requests) {
      if (request.kind === 'answer') {
        replies.push(request.reply);
        if (request.unwatch === true) this.#unwatch();
        if (request.thenClose === true) this.state.closing = true;
      } else if (request.kind === 'local') {
        replies.push(await runLocalCommand(request.name, request.args, this.#context, this.state));
      }
      // After QUIT (or a protocol error) nothing else is answered.
      if (this.state.closing) break;
    }
    return Buffer.concat(replies);
  }

  /**
   * WATCH: one read, at the connection's consistency, tells the log index this server's state
   * reflects. EXEC later sends that index with each key, and the transaction aborts on every
   * server alike if an entry after it changed one of them.
   */
  async #watch(keys: readonly Buffer[]): Promise<Uint8Array> {
    const added = keys.filter((key) => !this.state.watched.has(key.toString('latin1')));
    const bytes = added.reduce((sum, key) => sum + key.length + watchedKeyOverheadBytes, 0);
    const limit = this.#context.limits.watchedKeyBytesMax;
    if (this.state.watchedKeyBytes + bytes > limit) {
      return errorReply(`ERR too many WATCHed keys: at most ${limit} bytes of keys`);
    }
    let index: number;
    try {
      const reply = await this.#context.executor.read(
        [[Buffer.from(watchQueryName, 'latin1')]],
        this.state.consistency,
      );
      index = Number(Buffer.from(reply).toString('latin1').slice(1, -2));
    } catch (error) {
      return raftErrorReply(error);
    }
    for (const key of added) {
      const text = key.toString('latin1');
      // A key WATCHed twice keeps the earlier index: a change since then still aborts.
      if (this.state.watched.has(text)) continue;
      this.state.watched.set(text, index);
      this.state.watchedKeyBytes += key.length + watchedKeyOverheadBytes;
    }
    return okReply;
  }
}
