import { RaftError } from '../core/index.js';
import { messageCodecDefaults, frameHeaderBytes } from './message-codec.js';

// The u32 little-endian length prefix, read by hand: a DataView per frame costs more.
function readLength(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16)) +
    bytes[offset + 3]! * 0x100_0000
  );
}

/** The first allocation for a frame split across chunks; it doubles from there. */
export const bodyBytesInitial = 64 * 1024;

/**
 * Splits a byte stream into frames (a u32 little-endian body length, then the body), whatever the
 * chunk boundaries. A frame that arrives whole inside one chunk is returned as a view of that chunk;
 * only a frame split across chunks is copied, into a buffer of exactly its size.
 *
 * A length over `frameBytesMax` means the stream is corrupt or hostile and cannot be resynchronised:
 * `push` throws RaftError `INVALID_MESSAGE` and every later call throws too, so the caller closes
 * the connection. Memory held between calls is at most one partial frame, bounded by the limit.
 */
export class FrameDecoder {
  readonly #frameBytesMax: number;
  readonly #header = new Uint8Array(frameHeaderBytes);
  #headerFilled = 0;
  // The length of the frame being assembled, or -1 while its header is incomplete.
  #bodyLength = -1;
  // A body split across chunks. It grows by doubling towards the claimed length, so memory follows
  // the bytes actually received, not the length a peer claims in four bytes.
  #body: Uint8Array = new Uint8Array(0);
  #bodyFilled = 0;
  #failed: RaftError | null = null;

  constructor(options: { frameBytesMax?: number } = {}) {
    this.#frameBytesMax = options.frameBytesMax ?? messageCodecDefaults.messageBytesMax;
  }

  /** Bytes of an incomplete frame held until more input arrives. */
  get bufferedBytes(): number {
    return this.#headerFilled + this.#bodyFilled;
  }

  /** Feeds the next chunk of the stream; returns the frame bodies it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed !== null) throw this.#failed;
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#bodyLength !== -1) {
        offset = this.#fillBody(chunk, offset, frames);
      } else if (this.#headerFilled === 0 && chunk.length - offset >= frameHeaderBytes) {
        offset = this.#takeFrame(chunk, offset, frames);
      } else {
        offset = this.#fillHeader(chunk, offset, frames);
      }
    }
    return frames;
  }

  // The fast path: the length prefix is whole in this chunk, and maybe the body too.
  #takeFrame(chunk: Uint8Array, offset: number, frames: Uint8Array[]): number {
    const length = this.#checkLength(readLength(chunk, offset));
    const start = offset + frameHeaderBytes;
    if (chunk.length - start >= length) {
      frames.push(chunk.subarray(start, start + length));
      return start + length;
    }
    this.#bodyLength = length;
    return this.#fillBody(chunk, start, frames);
  }

  #fillHeader(chunk: Uint8Array, offset: number, frames: Uint8Array[]): number {
    const count = Math.min(frameHeaderBytes - this.#headerFilled, chunk.length - offset);
    this.#header.set(chunk.subarray(offset, offset + count), this.#headerFilled);
    this.#headerFilled += count;
    if (this.#headerFilled < frameHeaderBytes) return offset + count;
    this.#headerFilled = 0;
    this.#bodyLength = this.#checkLength(readLength(this.#header, 0));
    // An empty body is complete already; #fillBody would never be reached for it.
    if (this.#bodyLength === 0) this.#completeBody(frames);
    return offset + count;
  }

  #fillBody(chunk: Uint8Array, offset: number, frames: Uint8Array[]): number {
    const count = Math.min(this.#bodyLength - this.#bodyFilled, chunk.length - offset);
    const needed = this.#bodyFilled + count;
    if (needed > this.#body.length) {
      const capacity = Math.min(
        this.#bodyLength,
        Math.max(needed, 2 * this.#body.length, bodyBytesInitial),
      );
      const grown = new Uint8Array(capacity);
      grown.set(this.#body.subarray(0, this.#bodyFilled));
      this.#body = grown;
    }
    this.#body.set(chunk.subarray(offset, offset + count), this.#bodyFilled);
    this.#bodyFilled = needed;
    if (this.#bodyFilled === this.#bodyLength) this.#completeBody(frames);
    return offset + count;
  }

  #completeBody(frames: Uint8Array[]): void {
    // Growth is capped at the claimed length, so the buffer is exactly the body (or empty).
    frames.push(this.#bodyLength === 0 ? new Uint8Array(0) : this.#body);
    this.#bodyLength = -1;
    this.#body = new Uint8Array(0);
    this.#bodyFilled = 0;
  }

  #checkLength(length: number): number {
    if (length > this.#frameBytesMax) {
      this.#failed = new RaftError(
        'INVALID_MESSAGE',
        `frame of ${length} bytes is over the limit of ${this.#frameBytesMax}`,
        { details: { frameBytes: length } },
      );
      throw this.#failed;
    }
    return length;
  }
}
