// A histogram counted in plain numbers, for observations on a hot path: prom-client's Histogram validates and hashes
// the label object on every observe() (~1 µs, bench/RESULTS.md); here an observation is a bucket search and three
// additions, and the exposition (same name, help, buckets and lines as a prom-client Histogram) is built at scrape time.

/** One label set's buckets (not cumulative: summed at scrape time), sum and count. */
export interface HistogramSeries<L extends Record<string, string>> {
  labels: L;
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** Registered with `registry.registerMetric(h as unknown as client.Metric)`: it has the fields a Registry reads. */
export class PlainHistogram<L extends Record<string, string>> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: HistogramSeries<L>[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: number[],
  ) {}

  /** A new series; the caller keeps it and observes into it (no lookup per observation). */
  series(labels: L): HistogramSeries<L> {
    const s: HistogramSeries<L> = { labels, buckets: new Float64Array(this.upperBounds.length), sum: 0, count: 0 };
    this.#series.push(s);
    return s;
  }

  observe(s: HistogramSeries<L>, value: number): void {
    const bounds = this.upperBounds;
    for (let b = 0; b < bounds.length; b++) {
      if (value <= bounds[b]!) {
        s.buckets[b]!++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  /** Registry.resetMetrics() support: zero every series (they stay, like a prom-client metric's after reset). */
  reset(): void {
    for (const s of this.#series) {
      s.buckets.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values = [];
    for (const s of this.#series) {
      let acc = 0;
      for (let b = 0; b < this.upperBounds.length; b++) {
        acc += s.buckets[b]!;
        values.push({ labels: { le: this.upperBounds[b]!, ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
