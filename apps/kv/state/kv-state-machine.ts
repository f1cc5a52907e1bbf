import type { ApplyContext, StateMachine } from 'raftkit';
import {
  arrayReply,
  bulkReply,
  errorReply,
  integerReply,
  nullReply,
  okReply,
} from '../resp/resp-writer.js';
import { DeadlineHeap } from './deadline-heap.js';
import { fitsInt64, notIntegerMessage, parseInt64, parseSetOptions } from './kv-commands.js';
import { decodeWriteBatch } from './write-batch-codec.js';

/** A read: one or more read operations, answered together against one state. */
export interface KvReadQuery {
  readonly operations: readonly (readonly Uint8Array[])[];
}

/** Stale heap entries tolerated, beyond the live deadlines, before the heap is rebuilt. */
const staleDeadlinesMax = 4096;

/**
 * The replicated key-value state. Applying a batch returns the RESP replies of its operations,
 * concatenated in order, so they can be written to the client as they are.
 *
 * Time is replicated too: each entry carries its proposer's clock and the store's time is the
 * greatest one applied so far. Expiry is judged only by that time, so every server expires the
 * same keys at the same point of the log, whatever its own clock says.
 */
export class KvStateMachine implements StateMachine<Uint8Array, KvReadQuery, Uint8Array> {
  /** Keys are the bytes as latin1 text: one character per byte, so any key round-trips. */
  readonly #values = new Map<string, Buffer>();
  readonly #deadlines = new Map<string, number>();
  readonly #heap = new DeadlineHeap();
  #timeMs = 0;

  /** The replicated time: the greatest proposer clock applied so far, in ms since the epoch. */
  get replicatedTimeMs(): number {
    return this.#timeMs;
  }

  /** Live keys. */
  get size(): number {
    return this.#values.size;
  }

  /** Live keys that carry an expiry. */
  get expiringKeys(): number {
    return this.#deadlines.size;
  }

  apply(command: Uint8Array, _context: ApplyContext): Uint8Array {
    const batch = decodeWriteBatch(command);
    this.#advanceTime(batch.timeMs);
    const replies = batch.operations.map((operation) => this.#write(operation));
    return replies.length === 1 ? replies[0]! : Buffer.concat(replies);
  }

  query(query: KvReadQuery): Uint8Array {
    const replies = query.operations.map((operation) => this.#read(operation));
    return replies.length === 1 ? replies[0]! : Buffer.concat(replies);
  }

  #advanceTime(timeMs: number): void {
    if (timeMs <= this.#timeMs) return;
    this.#timeMs = timeMs;
    for (;;) {
      const next = this.#heap.peek();
      if (next === undefined || next.atMs > this.#timeMs) break;
      this.#heap.pop();
      if (this.#deadlines.get(next.key) === next.atMs) this.#delete(next.key);
    }
  }

  #write(operation: readonly Uint8Array[]): Buffer {
    const name = Buffer.from(operation[0]!).toString('latin1');
    const args = operation;
    switch (name) {
      case 'SET':
        return this.#set(args);
      case 'DEL': {
        let removed = 0;
        for (const key of args.slice(1)) if (this.#delete(keyOf(key))) removed++;
        return integerReply(removed);
      }
      case 'INCR':
        return this.#incrementBy(args[1]!, 1n);
      case 'DECR':
        return this.#incrementBy(args[1]!, -1n);
      case 'INCRBY':
      case 'DECRBY': {
        const amount = parseInt64(args[2]!);
        if (amount === null) return errorReply(notIntegerMessage);
        return this.#incrementBy(args[1]!, name === 'INCRBY' ? amount : -amount);
      }
      case 'APPEND': {
        const key = keyOf(args[1]!);
        const value = Buffer.concat([this.#values.get(key) ?? Buffer.alloc(0), args[2]!]);
        this.#values.set(key, value);
        return integerReply(value.length);
      }
      case 'MSET':
        for (let position = 1; position + 1 < args.length; position += 2) {
          this.#store(keyOf(args[position]!), args[position + 1]!, null);
        }
        return okReply;
      default:
        // Only a newer server version writes commands this one does not know; answering with an
        // error keeps every replica identical instead of stopping them all.
        return errorReply(`ERR unknown write command '${name.toLowerCase()}'`);
    }
  }

  #set(args: readonly Uint8Array[]): Buffer {
    const options = parseSetOptions(args);
    if (typeof options === 'string') return errorReply(options);
    const key = keyOf(args[1]!);
    const exists = this.#values.has(key);
    if ((options.condition === 'nx' && exists) || (options.condition === 'xx' && !exists)) {
      return nullReply;
    }
    this.#store(key, args[2]!, options.ttlMs === null ? null : this.#timeMs + options.ttlMs);
    return okReply;
  }

  #incrementBy(keyBytes: Uint8Array, amount: bigint): Buffer {
    const key = keyOf(keyBytes);
    const current = this.#values.get(key);
    const value = current === undefined ? 0n : parseInt64(current);
    if (value === null) return errorReply(notIntegerMessage);
    const next = value + amount;
    if (!fitsInt64(next)) return errorReply('ERR increment or decrement would overflow');
    // INCR keeps the key's expiry, as Redis does.
    this.#values.set(key, Buffer.from(next.toString(), 'latin1'));
    return integerReply(next);
  }

  #store(key: string, value: Uint8Array, deadlineMs: number | null): void {
    // Copy: the argument is a view into the whole log entry, which should not stay alive.
    this.#values.set(key, Buffer.from(value));
    if (deadlineMs === null) {
      this.#deadlines.delete(key);
      return;
    }
    this.#deadlines.set(key, deadlineMs);
    this.#heap.push({ key, atMs: deadlineMs });
    if (this.#heap.size > this.#deadlines.size + staleDeadlinesMax) {
      this.#heap.rebuild([...this.#deadlines].map(([entryKey, atMs]) => ({ key: entryKey, atMs })));
    }
  }

  #delete(key: string): boolean {
    this.#deadlines.delete(key);
    return this.#values.delete(key);
  }

  #read(operation: readonly Uint8Array[]): Buffer {
    const name = Buffer.from(operation[0]!).toString('latin1');
    const keys = operation.slice(1).map(keyOf);
    switch (name) {
      case 'GET':
        return bulkReply(this.#live(keys[0]!));
      case 'MGET':
        return arrayReply(keys.map((key) => bulkReply(this.#live(key))));
      case 'EXISTS':
        return integerReply(keys.filter((key) => this.#live(key) !== null).length);
      case 'DBSIZE':
        return integerReply(this.#values.size);
      case 'TTL':
      case 'PTTL': {
        const key = keys[0]!;
        if (this.#live(key) === null) return integerReply(-2);
        const deadline = this.#deadlines.get(key);
        if (deadline === undefined) return integerReply(-1);
        const remaining = deadline - this.#timeMs;
        return integerReply(name === 'PTTL' ? remaining : Math.round(remaining / 1000));
      }
      default:
        return errorReply(`ERR unknown read command '${name.toLowerCase()}'`);
    }
  }

  /** The value if the key exists and has not expired by replicated time. */
  #live(key: string): Buffer | null {
    const deadline = this.#deadlines.get(key);
    if (deadline !== undefined && deadline <= this.#timeMs) return null;
    return this.#values.get(key) ?? null;
  }
}

function keyOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
