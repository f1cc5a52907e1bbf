import { connect, type Socket } from 'node:net';
import { splitHostPort } from '../cluster-layout.js';
import { RespReplyParser, type RespValue } from './resp-reply-parser.js';
import { encodeRequest } from './resp-writer.js';

/** Replies awaited at once on one client; more calls wait for earlier ones. */
const pendingRepliesMax = 1024;

/**
 * A minimal Redis-protocol client for administration (the CLI) and tests: one connection,
 * requests answered in order.
 */
export class RespClient {
  readonly #socket: Socket;
  readonly #parser = new RespReplyParser();
  readonly #waiting: { resolve(value: RespValue): void; reject(error: Error): void }[] = [];
  #failure: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  /** Connects to `host:port`; rejects after `timeoutMs`. */
  static connect(address: string, timeoutMs = 2000): Promise<RespClient> {
    const { host, port } = splitHostPort(address);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connecting to ${address} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RespClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends one request; resolves with its reply (an error reply resolves too, as a value). */
  async send(args: readonly (string | Uint8Array)[]): Promise<RespValue> {
    if (this.#failure !== null) throw this.#failure;
    if (this.#waiting.length >= pendingRepliesMax) {
      throw new Error(`more than ${pendingRepliesMax} requests awaiting replies`);
    }
    const reply = new Promise<RespValue>((resolve, reject) =>
      this.#waiting.push({ resolve, reject }),
    );
    this.#socket.write(encodeRequest(args));
    return reply;
  }

  close(): void {
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    let values: RespValue[];
    try {
      values = this.#parser.push(chunk);
    } catch (error) {
      this.#fail(error as Error);
      this.#socket.destroy();
      return;
    }
    for (const value of values) this.#waiting.shift()?.resolve(value);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}

/** Connects, sends one request, closes. */
export async function sendOnce(
  address: string,
  args: readonly (string | Uint8Array)[],
  timeoutMs = 5000,
): Promise<RespValue> {
  const client = await RespClient.connect(address, timeoutMs);
  const timer = setTimeout(() => client.close(), timeoutMs);
  try {
    return await client.send(args);
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

/** A reply as text for people: errors prefixed with `(error)`, nil as `(nil)`. */
export function formatReply(value: RespValue): string {
  switch (value.type) {
    case 'simple':
      return value.value;
    case 'error':
      return `(error) ${value.message}`;
    case 'integer':
      return `(integer) ${value.value}`;
    case 'bulk':
      return value.value === null ? '(nil)' : value.value.toString('utf8');
    case 'array':
      return value.value === null ? '(nil)' : value.value.map(formatReply).join('\n');
  }
}
