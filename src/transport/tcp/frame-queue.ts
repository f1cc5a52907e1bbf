/**
 * A first-in-first-out queue of encoded frames bounded by count and by bytes. When a new frame does
 * not fit, the oldest frames make room: Raft retransmits what is lost, and the newest messages carry
 * the freshest state.
 */
export class FrameQueue {
  readonly #messagesMax: number;
  readonly #bytesMax: number;
  #frames: Uint8Array[] = [];
  // Index of the oldest frame: shifting an array is linear, so the front moves instead.
  #head = 0;
  #bytes = 0;

  constructor(limits: { messagesMax: number; bytesMax: number }) {
    this.#messagesMax = limits.messagesMax;
    this.#bytesMax = limits.bytesMax;
  }

  /** Frames waiting. */
  get length(): number {
    return this.#frames.length - this.#head;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends a frame, dropping the oldest ones until it fits. Returns how many were dropped; a frame
   * larger than the whole byte limit is itself dropped (counted in the result) and nothing else is.
   */
  push(frame: Uint8Array): number {
    if (frame.length > this.#bytesMax) return 1;
    let dropped = 0;
    while (this.length >= this.#messagesMax || this.#bytes + frame.length > this.#bytesMax) {
      this.shift();
      dropped++;
    }
    this.#frames.push(frame);
    this.#bytes += frame.length;
    return dropped;
  }

  /** Removes and returns the oldest frame. */
  shift(): Uint8Array | undefined {
    if (this.#head >= this.#frames.length) return undefined;
    const frame = this.#frames[this.#head]!;
    this.#head++;
    this.#bytes -= frame.length;
    if (this.#head === this.#frames.length) {
      this.#frames = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    return frame;
  }

  /** Empties the queue; returns how many frames it held. */
  clear(): number {
    const count = this.length;
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
    return count;
  }
}
