// The ingress request metrics, on the proxy's hot path: counted in plain numbers per series and handed to the
// registry at scrape time. prom-client validates and hashes the label object on every `inc`/`observe` — bound
// children (`labels()`) included, which only save building the object — about 1 µs a request, measured
// (bench/RESULTS.md). Here a request costs two Map lookups, an array index and a bucket search (metrics-histogram.ts).

import type client from 'prom-client';
import type { HistogramSeries, PlainHistogram } from './metrics-histogram.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];
/** Only these methods get their own label value; anything else is OTHER (bounded cardinality). */
export const METHOD_LABELS = [...METHODS, 'OTHER'];
const METHOD_INDEX = new Map(METHOD_LABELS.map((m, i) => [m, i]));
/** code_class values by status / 100 (index 0: no status was sent). */
const CLASS_LABELS = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function methodIndex(method: string): number {
  if (method === 'GET') return 0;
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

/** The ingress duration histogram: one series per project and service. */
export type IngressDuration = PlainHistogram<{ project: string; service: string }>;

/** One project/service's ingress requests: counts by replica × method × status class, and the duration series. */
export class IngressSeries {
  /** By upstream id ('' when no replica answered): pending counts indexed by method × status class. */
  readonly #counts = new Map<string, Pending[]>();
  readonly #duration: HistogramSeries<{ project: string; service: string }>;

  constructor(
    readonly project: string,
    readonly service: string,
    private readonly durations: IngressDuration,
    private readonly replicaLabel: (upstream: string | undefined) => string,
  ) {
    this.#duration = durations.series({ project, service });
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
