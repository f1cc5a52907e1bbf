import { once } from 'node:events';
import type { Socket } from 'node:net';
import { arityError, checkDataCommand, dataCommandKind } from '../state/kv-commands.js';
import { encodedOperationBytes } from '../state/write-batch-codec.js';
import { RespRequestParser, type RespRequestLimits } from '../resp/resp-request-parser.js';
import { errorReply } from '../resp/resp-writer.js';
import { isLocalCommand, localCommandArity, runLocalCommand } from './local-commands.js';
import { raftErrorReply } from './raft-command.js';
import type { ConnectionState, ServerContext } from './server-context.js';

/** A request, classified: a write or read for the store, a local command, or a ready answer. */
type Planned =
  | { readonly kind: 'write'; readonly args: readonly Buffer[]; readonly bytes: number }
  | { readonly kind: 'read'; readonly args: readonly Buffer[] }
  | { readonly kind: 'local'; readonly name: string; readonly args: readonly Buffer[] }
  | { readonly kind: 'answer'; readonly reply: Buffer; readonly thenClose?: boolean };

/** Requests that run together: one proposal, one read, or local commands in a row. */
type Run =
  | { readonly kind: 'write' | 'read'; readonly operations: readonly (readonly Buffer[])[] }
  | { readonly kind: 'local'; readonly requests: readonly Planned[] };

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
  readonly #state: ConnectionState;
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
    readonly requestLimits?: Partial<RespRequestLimits>;
  }) {
    this.#socket = options.socket;
    this.#context = options.context;
    this.#parser = new RespRequestParser(options.requestLimits);
    this.#state = {
      id: options.id,
      consistency: options.context.defaultConsistency,
      name: null,
      closing: false,
    };
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.#socket.on('end', () => {
      this.#inputEnded = true;
      if (!this.#running) this.#kick();
    });
    this.#socket.on('error', () => this.#close());
    this.#socket.on('close', () => this.#close());
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
    if (this.#closed || this.#broken || this.#state.closing) return;
    const { requests, error } = this.#parser.push(chunk);
    for (const args of requests) this.#queue.push(this.#plan(args));
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

  #plan(args: Buffer[]): Planned {
    const name = args[0]!.toString('latin1').toUpperCase();
    const kind = dataCommandKind(name);
    if (kind !== null) {
      const problem = checkDataCommand(name, args);
      if (problem !== null) return { kind: 'answer', reply: errorReply(problem) };
      args[0] = Buffer.from(name, 'latin1');
      return kind === 'write' ? { kind, args, bytes: encodedOperationBytes(args) } : { kind, args };
    }
    if (isLocalCommand(name)) {
      const problem = arityError(name, localCommandArity(name), args.length);
      if (problem !== null) return { kind: 'answer', reply: errorReply(problem) };
      return { kind: 'local', name, args };
    }
    const preview = args
      .slice(1, 4)
      .map((arg) => `'${arg.toString('utf8').slice(0, 32)}'`)
      .join(' ');
    return {
      kind: 'answer',
      reply: errorReply(
        `ERR unknown command '${args[0]!.toString('utf8').slice(0, 64)}', with args beginning with: ${preview}`,
      ),
    };
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
      if (this.#state.closing) break;
      if (this.#socket.isPaused() && !this.#broken) {
        if (this.#queue.length < limits.queuedRequestsMax / 2) this.#socket.resume();
      }
      if (this.#socket.writableLength > limits.pendingReplyBytesMax) {
        // The client does not read its replies: stop taking its requests until it does.
        await Promise.race([once(this.#socket, 'drain'), this.closed]);
      }
    }
    if ((this.#state.closing || this.#inputEnded) && !this.#closed) this.#socket.end();
  }

  /** Takes the longest run of same-kind requests from the queue's head, within the limits. */
  #takeRun(): Run {
    const first = this.#queue[0]!;
    const limits = this.#context.limits;
    if (first.kind === 'local' || first.kind === 'answer') {
      let count = 0;
      while (count < this.#queue.length && count < limits.batchOperationsMax) {
        const kind = this.#queue[count]!.kind;
        if (kind !== 'local' && kind !== 'answer') break;
        count++;
      }
      return { kind: 'local', requests: this.#queue.splice(0, count) };
    }
    const operations: (readonly Buffer[])[] = [];
    let bytes = 0;
    while (
      operations.length < this.#queue.length &&
      operations.length < limits.batchOperationsMax
    ) {
      const next = this.#queue[operations.length]!;
      if (next.kind !== first.kind) break;
      const size = next.kind === 'write' ? next.bytes : 0;
      if (operations.length > 0 && bytes + size > limits.batchBytesMax) break;
      bytes += size;
      operations.push(next.args);
    }
    this.#queue.splice(0, operations.length);
    return { kind: first.kind, operations };
  }

  async #execute(run: Run): Promise<Uint8Array> {
    if (run.kind === 'local') {
      const replies: Uint8Array[] = [];
      for (const request of run.requests) {
        if (request.kind === 'answer') {
          replies.push(request.reply);
          if (request.thenClose === true) this.#state.closing = true;
        } else if (request.kind === 'local') {
          replies.push(
            await runLocalCommand(request.name, request.args, this.#context, this.#state),
          );
        }
        // After QUIT (or a protocol error) nothing else is answered.
        if (this.#state.closing) break;
      }
      return Buffer.concat(replies);
    }
    const executor = this.#context.executor;
    try {
      return run.kind === 'write'
        ? await executor.write(run.operations)
        : await executor.read(run.operations, this.#state.consistency);
    } catch (error) {
      // Every operation of the run shared one proposal (or one read), so they share its fate.
      const reply = raftErrorReply(error);
      return Buffer.concat(run.operations.map(() => reply));
    }
  }
}
