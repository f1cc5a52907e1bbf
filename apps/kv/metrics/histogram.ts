/** Upper bounds, in seconds, for latencies from sub-millisecond fsyncs to multi-second stalls. */
export const latencyBucketsSeconds: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/**
 * A Prometheus-style cumulative histogram with fixed buckets: constant memory however many
 * observations it takes.
 */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[] = latencyBucketsSeconds) {
    this.#bounds = bounds;
    this.#counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let position = 0; position < this.#bounds.length; position++) {
      if (value <= this.#bounds[position]!) {
        this.#counts[position]!++;
        return;
      }
    }
  }

  get count(): number {
    return this.#count;
  }

  /** The exposition lines of this histogram under `name`, with optional labels. */
  render(name: string, labels = ''): string[] {
    const lines: string[] = [];
    const separator = labels === '' ? '' : ',';
    let cumulative = 0;
    this.#bounds.forEach((bound, position) => {
      cumulative += this.#counts[position]!;
      lines.push(`${name}_bucket{${labels}${separator}le="${bound}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{${labels}${separator}le="+Inf"} ${this.#count}`);
    const suffix = labels === '' ? '' : `{${labels}}`;
    lines.push(`${name}_sum${suffix} ${this.#sum}`);
    lines.push(`${name}_count${suffix} ${this.#count}`);
    return lines;
  }
}
