import { join } from 'node:path';
import { segmentFileName, segmentHeaderBytes } from './record-format.js';

/**
 * What FileStorage knows about one segment file without reading it: where each of its entries
 * lies, so an entry that fell out of the cache is one positioned read away.
 */
export class Segment {
  readonly sequence: number;
  readonly path: string;
  /** Index of the segment's first entry (the header's value); its entries are consecutive. */
  readonly firstIndex: number;
  /** Bytes in use: the end of the last complete record. */
  size: number;
  /** `#starts[i]` and `#ends[i]` bound the frame of entry `firstIndex + i`. */
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];

  constructor(options: { directory: string; sequence: number; firstIndex: number; size?: number }) {
    this.sequence = options.sequence;
    this.path = join(options.directory, segmentFileName(options.sequence));
    this.firstIndex = options.firstIndex;
    this.size = options.size ?? segmentHeaderBytes;
  }

  /** Number of entries in the segment. */
  get entryCount(): number {
    return this.#starts.length;
  }

  /** The index after the segment's last entry: where the next segment's entries begin. */
  get nextIndex(): number {
    return this.firstIndex + this.#starts.length;
  }

  /** Whether the segment holds an entry with this index. */
  holds(index: number): boolean {
    return index >= this.firstIndex && index < this.nextIndex;
  }

  /** Records that the next entry's frame lies at `start` up to `end`. */
  addEntry(start: number, end: number): void {
    this.#starts.push(start);
    this.#ends.push(end);
  }

  /** The byte range `[start, end)` holding the frames of entries `from <= index < to`. */
  byteRange(from: number, to: number): { start: number; end: number } {
    return {
      start: this.#starts[from - this.firstIndex]!,
      end: this.#ends[to - 1 - this.firstIndex]!,
    };
  }

  /** Forgets entries at and after `index` and returns where the file must be cut. */
  cutAt(index: number): number {
    const position = index - this.firstIndex;
    const cut = this.#starts[position]!;
    this.#starts.length = position;
    this.#ends.length = position;
    this.size = cut;
    return cut;
  }
}
