// State machines and a transport wrapper shared by the node-level snapshot tests.
import type { NodeId } from '../core/index.js';
import type { Message, MessageHandler, Transport } from '../transport/transport.js';
import type { SnapshotPosition } from './state-machine.js';
import { CounterMachine, encode } from './test-cluster.test-helpers.js';

/** The counter with snapshots: its state is the total and how many commands it applied. */
export class SnapshottingCounter extends CounterMachine {
  restoredFrom: SnapshotPosition | null = null;

  *snapshot(): Iterable<Uint8Array> {
    // Captured now, read later: the copy is what makes the snapshot consistent.
    const state = JSON.stringify({ total: this.total, count: this.applied.length });
    const bytes = encode(state);
    // Several chunks, so the stream and the transfer are exercised with more than one.
    for (let offset = 0; offset < bytes.byteLength; offset += 3) {
      yield bytes.subarray(offset, offset + 3);
    }
  }

  async restore(chunks: AsyncIterable<Uint8Array>, snapshot: SnapshotPosition): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const state = JSON.parse(new TextDecoder().decode(Buffer.concat(parts))) as {
      total: number;
    };
    this.total = state.total;
    this.restoredFrom = snapshot;
  }
}

/** The byte at `position` of a payload whose seed is `seed`: any corruption or shift shows. */
function payloadByte(seed: number, position: number): number {
  return (position * 31 + (position >>> 8) * 7 + seed) & 0xff;
}

const headerBytes = 8;
const generatedChunkBytes = 16 * 1024;

/**
 * A counter whose snapshot carries `payloadBytes` of generated data after an 8-byte header (the
 * total), so a test can make snapshots of any size without holding them in memory. `restore`
 * checks every byte as it streams by and remembers the largest chunk it was handed.
 */
export class PayloadCounter extends CounterMachine {
  readonly payloadBytes: number;
  restoredFrom: SnapshotPosition | null = null;
  largestRestoreChunkBytes = 0;

  constructor(payloadBytes: number) {
    super();
    this.payloadBytes = payloadBytes;
  }

  *snapshot(): Iterable<Uint8Array> {
    const total = this.total;
    const header = new Uint8Array(headerBytes);
    new DataView(header.buffer).setFloat64(0, total);
    yield header;
    for (let start = 0; start < this.payloadBytes; start += generatedChunkBytes) {
      const chunk = new Uint8Array(Math.min(generatedChunkBytes, this.payloadBytes - start));
      for (let position = 0; position < chunk.byteLength; position++) {
        chunk[position] = payloadByte(total, start + position);
      }
      yield chunk;
    }
  }

  async restore(chunks: AsyncIterable<Uint8Array>, snapshot: SnapshotPosition): Promise<void> {
    const header = new Uint8Array(headerBytes);
    let received = 0;
    let total = 0;
    for await (const chunk of chunks) {
      this.largestRestoreChunkBytes = Math.max(this.largestRestoreChunkBytes, chunk.byteLength);
      for (const byte of chunk) {
        if (received < headerBytes) {
          header[received++] = byte;
          if (received === headerBytes) total = new DataView(header.buffer).getFloat64(0);
          continue;
        }
        const position = received++ - headerBytes;
        if (byte !== payloadByte(total, position)) {
          throw new Error(`snapshot byte ${position} is corrupt`);
        }
      }
    }
    if (received !== headerBytes + this.payloadBytes) {
      throw new Error(
        `snapshot holds ${received} bytes, expected ${headerBytes + this.payloadBytes}`,
      );
    }
    this.total = total;
    this.restoredFrom = snapshot;
  }
}

/**
 * Decides what happens to one message arriving at a node: `deliver` it (any number of times, now
 * or later) or not at all.
 */
export type ArrivalFilter = (message: Message, deliver: MessageHandler) => void;

/** Wraps a transport so that a test decides the fate of every message the node receives. */
export class FilteringTransport implements Transport {
  readonly #inner: Transport;
  readonly #filter: ArrivalFilter;

  constructor(inner: Transport, filter: ArrivalFilter) {
    this.#inner = inner;
    this.#filter = filter;
  }

  start(self: NodeId, handler: MessageHandler): Promise<void> {
    return this.#inner.start(self, (message) => this.#filter(message, handler));
  }

  send(message: Message): void {
    this.#inner.send(message);
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }
}
