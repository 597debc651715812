// The ingress request metrics, on the proxy's hot path: counted in plain numbers per series and handed to the
// registry at scrape time. prom-client validates and hashes the label object on every `inc`/`observe` — bound
// children (`labels()`) included, which only save building the object — about 1 µs a request, measured
// (bench/RESULTS.md). Here a request costs two Map lookups, an array index and a bucket search.

import type client from 'prom-client';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];
/** Only these methods get their own label value; anything else is OTHER (bounded cardinality). */
export const METHOD_LABELS = [...METHODS, 'OTHER'];
const METHOD_INDEX = new Map(METHOD_LABELS.map((m, i) => [m, i]));
/** code_class values by status / 100 (index 0: no status was sent). */
const CLASS_LABELS = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function methodIndex(method: string): number {
  return METHOD_INDEX.get(method) ?? METHOD_INDEX.get(method.toUpperCase()) ?? METHOD_LABELS.length - 1;
}

export function classIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}

export const methodLabelOf = (i: number): string => METHOD_LABELS[i]!;
export const classLabelOf = (i: number): string => CLASS_LABELS[i]!;

type RequestLabels = Record<'project' | 'service' | 'replica' | 'method' | 'code_class' | 'path', string>;

/** One counter series: the count not yet handed to prom-client. */
interface Pending {
  labels: RequestLabels;
  count: number;
}

/** One project/service's duration histogram, in the exposition's cumulative form at scrape time. */
interface DurationSeries {
  labels: { project: string; service: string };
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * cmesh_request_duration_seconds as a registry metric of our own (same name, help, buckets and exposition as a
 * prom-client Histogram), so an observation is a bucket search and three additions.
 */
export class IngressDuration {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: DurationSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: number[],
  ) {}

  series(project: string, service: string): DurationSeries {
    const s: DurationSeries = { labels: { project, service }, buckets: new Float64Array(this.upperBounds.length), sum: 0, count: 0 };
    this.#series.push(s);
    return s;
  }

  observe(s: DurationSeries, seconds: number): void {
    const bounds = this.upperBounds;
    for (let b = 0; b < bounds.length; b++) {
      if (seconds <= bounds[b]!) {
        s.buckets[b]!++;
        break;
      }
    }
    s.sum += seconds;
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

/** One project/service's ingress requests: counts by replica × method × status class, and the duration series. */
export class IngressSeries {
  /** By upstream id ('' when no replica answered): pending counts indexed by method × status class. */
  readonly #counts = new Map<string, Pending[]>();
  readonly #duration: DurationSeries;

  constructor(
    private readonly project: string,
    private readonly service: string,
    private readonly durations: IngressDuration,
    private readonly replicaLabel: (upstream: string | undefined) => string,
  ) {
    this.#duration = durations.series(project, service);
  }

  record(upstream: string | undefined, method: string, status: number, durationMs: number): void {
    const key = upstream ?? '';
    let row = this.#counts.get(key);
    if (row === undefined) {
      row = [];
      this.#counts.set(key, row);
    }
    const m = methodIndex(method);
    const c = classIndex(status);
    const i = m * CLASS_LABELS.length + c;
    let slot = row[i];
    if (slot === undefined) {
      const labels = { project: this.project, service: this.service, replica: this.replicaLabel(upstream), method: methodLabelOf(m), code_class: classLabelOf(c), path: 'ingress' };
      slot = { labels, count: 0 };
      row[i] = slot;
    }
    slot.count++;
    this.durations.observe(this.#duration, durationMs / 1000);
  }

  /** Hands the counts since the last flush to the counter (its `collect`, before every scrape). */
  flush(counter: client.Counter<keyof RequestLabels>): void {
    for (const row of this.#counts.values()) {
      for (const slot of row) {
        if (slot === undefined || slot.count === 0) continue;
        counter.inc(slot.labels, slot.count);
        slot.count = 0;
      }
    }
  }
}
