// A leaf module: the window of append messages sent to one follower and not yet acknowledged.

interface InflightMessage {
  readonly lastIndex: number;
  readonly bytes: number;
}

/**
 * Bounds replication to one follower by message count and by bytes, so a slow follower cannot make
 * the leader buffer without limit. Messages are acknowledged in index order.
 */
export class Inflights {
  readonly #messagesMax: number;
  readonly #bytesMax: number;
  // A ring buffer: sized once, never grows, so a burst cannot allocate past the limit.
  readonly #ring: (InflightMessage | undefined)[];
  #start = 0;
  #count = 0;
  #bytes = 0;

  constructor(messagesMax: number, bytesMax: number) {
    this.#messagesMax = messagesMax;
    this.#bytesMax = bytesMax;
    this.#ring = new Array<InflightMessage | undefined>(messagesMax);
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** True when no further message may be sent until some are acknowledged. */
  get full(): boolean {
    return this.#count >= this.#messagesMax || this.#bytes >= this.#bytesMax;
  }

  add(lastIndex: number, bytes: number): void {
    if (this.#count >= this.#messagesMax) {
      throw new RangeError(`inflight window full (${this.#messagesMax} messages)`);
    }
    const slot = (this.#start + this.#count) % this.#messagesMax;
    this.#ring[slot] = { lastIndex, bytes };
    this.#count++;
    this.#bytes += bytes;
  }

  /** Releases every message whose last index is at or below `index`. */
  freeTo(index: number): void {
    while (this.#count > 0) {
      const oldest = this.#ring[this.#start]!;
      if (oldest.lastIndex > index) break;
      this.#ring[this.#start] = undefined;
      this.#start = (this.#start + 1) % this.#messagesMax;
      this.#count--;
      this.#bytes -= oldest.bytes;
    }
  }

  /** Releases the oldest message, whatever its index. */
  freeFirst(): void {
    if (this.#count === 0) return;
    const oldest = this.#ring[this.#start]!;
    this.freeTo(oldest.lastIndex);
  }

  reset(): void {
    this.#ring.fill(undefined);
    this.#start = 0;
    this.#count = 0;
    this.#bytes = 0;
  }
}
