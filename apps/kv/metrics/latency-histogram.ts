import { Histogram, type LabelValues, type ObserveDataWithExemplar } from 'prom-client';

/** What a scrape reads of one histogram, shaped as prom-client's own histograms report it. */
interface HistogramExport {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: {
    readonly labels: LabelValues<string>;
    readonly value: number;
    readonly metricName: string;
  }[];
}

/**
 * A Prometheus histogram of durations without labels whose `observe` is a scan of the bounds and
 * three additions. prom-client's own `observe` builds a label record, hashes it, looks it up and
 * turns the bound into a property name on every call: on a server taking one write at a time it
 * was the largest single item of the leader's own JavaScript, for a value read once per scrape.
 * The counts are kept here and handed to the registry in prom-client's export shape, so the
 * exposition is the same text a prom-client histogram would give.
 */
export class LatencyHistogram extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: Float64Array;
  /** Observations per bucket (not cumulative); the last slot is above every bound (+Inf). */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(options: { readonly name: string; readonly help: string; buckets: number[] }) {
    super({ ...options, registers: [] });
    // prom-client's constructor sets `observe` on the instance, which would hide this class's.
    delete (this as { observe?: unknown }).observe;
    this.#name = options.name;
    this.#help = options.help;
    this.#bounds = Float64Array.from(options.buckets);
    this.#counts = new Float64Array(options.buckets.length + 1);
  }

  /** Records one duration in seconds. Labels are refused: these histograms have none. */
  override observe(
    value: number | LabelValues<string> | ObserveDataWithExemplar<string>,
    _labeled?: number,
  ): void {
    if (typeof value !== 'number') throw new TypeError(`${this.#name} takes no labels`);
    if (!Number.isFinite(value))
      throw new TypeError(`${this.#name}: not a finite number: ${value}`);
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.#counts[bucket]!++;
    this.#sum += value;
    this.#count++;
  }

  override reset(): void {
    // prom-client's constructor resets before this class's fields exist.
    if (!(#counts in this)) {
      super.reset();
      return;
    }
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }

  /** Read by the registry for the text exposition. */
  getForPromString(): Promise<HistogramExport> {
    const bucketName = `${this.#name}_bucket`;
    const values: HistogramExport['values'] = [];
    let cumulative = 0;
    for (let bucket = 0; bucket < this.#bounds.length; bucket++) {
      cumulative += this.#counts[bucket]!;
      values.push({
        labels: { le: this.#bounds[bucket]! },
        value: cumulative,
        metricName: bucketName,
      });
    }
    values.push(
      { labels: { le: '+Inf' }, value: this.#count, metricName: bucketName },
      { labels: {}, value: this.#sum, metricName: `${this.#name}_sum` },
      { labels: {}, value: this.#count, metricName: `${this.#name}_count` },
    );
    return Promise.resolve({
      name: this.#name,
      help: this.#help,
      type: 'histogram',
      aggregator: 'sum',
      values,
    });
  }

  override get(): ReturnType<Histogram['get']> {
    return this.getForPromString() as unknown as ReturnType<Histogram['get']>;
  }
}
