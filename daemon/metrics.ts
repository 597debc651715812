// Prometheus metrics: a DaemonEvent subscriber plus the proxies' per-request/per-attempt hooks, on its own registry.
// Counters and histograms follow events; the replica gauges are read from the service table at scrape time (the
// collector pattern), so a replica that leaves takes its series with it.

import client from 'prom-client';
import type { ServiceTableRow } from './api/service-table.ts';
import type { AccessLogEntry, AttemptStats } from '../mesh/proxy/index.ts';
import type { DaemonEvent } from './api/events.ts';
import type { GatewayStats } from './api/gateway-control.ts';
import { parseReplicaId } from './api/labels.ts';
import { type IngressDuration, IngressSeries, METHOD_LABELS } from './metrics-ingress.ts';
import { PlainHistogram } from './metrics-histogram.ts';
import { registerDefaultMetrics } from './metrics-defaults.ts';
import { registerGrpcMetrics } from './metrics-grpc.ts';
import { registerUdpMetrics, type UdpPortCounters } from './metrics-udp.ts';
import { type BreakerCounters, type PolicyCounter, type PolicyRequestEntry, registerPolicyMetrics } from './metrics-policy.ts';

/** Only these methods get their own label value; anything else is OTHER (bounded cardinality). */
const METHODS = new Set(METHOD_LABELS.filter((m) => m !== 'OTHER'));
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SLOW_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function methodLabel(method: string): string {
  const m = method.toUpperCase();
  return METHODS.has(m) ? m : 'OTHER';
}

/** `2xx`…`5xx`; `none` when the client left before any status was sent. */
export function codeClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'none';
}

/** Pool ids are `service#replica`; the label is just the replica number. */
export function replicaLabel(upstream: string | undefined): string {
  if (upstream === undefined) return 'none';
  const id = parseReplicaId(upstream);
  return id ? String(id.replica) : upstream;
}

export interface DaemonMetricsOptions {
  /** The mesh's service table, read at scrape time for the replica gauges. */
  snapshot?: () => ServiceTableRow[];
  /** The published UDP ports' forwarder counters, read at scrape time. */
  udp?: () => UdpPortCounters[];
  /** Circuit breakers per project (traffic policy), read at scrape time. */
  breakers?: () => BreakerCounters[];
  /** Default process metrics (off in unit tests, which want a small, exact exposition). */
  defaultMetrics?: boolean;
}

export class DaemonMetrics {
  readonly registry = new client.Registry();
  readonly #requests: client.Counter<'project' | 'service' | 'replica' | 'method' | 'code_class' | 'path'>;
  /** East-west totals last seen per project (and the gateway start they count from), to add only the increase. */
  /** Per project and gateway index, the last totals of each gateway process (by its startedAt), newest two kept. */
  readonly #eastWestSeen = new Map<string, Map<number, Map<string, number>>>();
  readonly #createdAt = Date.now();
  readonly #duration: IngressDuration;
  readonly #connectErrors: client.Counter<'project' | 'service' | 'replica'>;
  readonly #retries: client.Counter<'project' | 'service'>;
  readonly #ejections: client.Counter<'project' | 'service' | 'replica'>;
  readonly #restarts: client.Counter<'project' | 'service' | 'replica'>;
  readonly #startProbes: client.Counter<'project' | 'service'>;
  readonly #builds: client.Histogram<'project' | 'service'>;
  readonly #reconciles: client.Histogram<'project'>;
  /** Ingress request series by project, then service; their counts reach #requests when it is collected. */
  readonly #ingress = new Map<string, Map<string, IngressSeries>>();
  /** The series the last request was counted in (series are never removed, so it stays valid). */
  #last: IngressSeries | undefined;
  readonly #policy: PolicyCounter;
  readonly #grpc: (project: string, service: string, grpcStatus: string) => void;
  /** Build start times by project/service: the duration is measured between the start and the done/failed event. */
  readonly #buildStarts = new Map<string, number>();

  constructor(options: DaemonMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) {
      registerDefaultMetrics(this.registry, 'cmesh_');
      // prom-client names these gauges `*_total`, which promtool's linter rejects; the handle counts add little.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(`cmesh_${name}`);
    }
    const ingress = this.#ingress;
    this.#requests = new client.Counter({
      name: 'cmesh_requests_total',
      help: 'Client requests through the mesh, by replica that answered, method, status class and path (ingress: a published port; east-west: by name through the project gateway).',
      labelNames: ['project', 'service', 'replica', 'method', 'code_class', 'path'],
      registers,
      collect() {
        for (const byService of ingress.values()) for (const series of byService.values()) series.flush(this);
      },
    });
    this.#duration = new PlainHistogram('cmesh_request_duration_seconds', 'Client request duration through the mesh proxy, retries included.', LATENCY_BUCKETS);
    this.registry.registerMetric(this.#duration as unknown as client.Metric);
    this.#connectErrors = new client.Counter({
      name: 'cmesh_upstream_connect_errors_total',
      help: 'Upstream attempts that could not connect to a replica.',
      labelNames: ['project', 'service', 'replica'],
      registers,
    });
    this.#retries = new client.Counter({
      name: 'cmesh_retries_total',
      help: 'Upstream attempts after the first one of a request (retries and failovers).',
      labelNames: ['project', 'service'],
      registers,
    });
    this.#ejections = new client.Counter({
      name: 'cmesh_ejections_total',
      help: 'Replicas ejected from balancing by passive health checks.',
      labelNames: ['project', 'service', 'replica'],
      registers,
    });
    this.#restarts = new client.Counter({
      name: 'cmesh_restarts_total',
      help: 'Replica restarts done by the cmesh supervisor.',
      labelNames: ['project', 'service', 'replica'],
      registers,
    });
    this.#startProbes = new client.Counter({
      name: 'cmesh_start_probes_total',
      help: 'Healthcheck execs cmesh ran to see replicas healthy right after start (counted at the first pass; none run after it).',
      labelNames: ['project', 'service'],
      registers,
    });
    this.#builds = new client.Histogram({
      name: 'cmesh_build_duration_seconds',
      help: 'Image build duration (engine builds only; cache hits are not observed).',
      labelNames: ['project', 'service'],
      buckets: SLOW_BUCKETS,
      registers,
    });
    this.#reconciles = new client.Histogram({
      name: 'cmesh_reconcile_duration_seconds',
      help: 'Duration of reconcile passes that had actions to execute.',
      labelNames: ['project'],
      buckets: SLOW_BUCKETS,
      registers,
    });
    this.#policy = registerPolicyMetrics(registers, options.breakers ?? (() => []));
    this.#grpc = registerGrpcMetrics(registers);
    this.#replicaGauges(registers, options.snapshot ?? (() => []));
    registerUdpMetrics(registers, options.udp ?? (() => []));
  }

  /** The DaemonEvent → metric mapping. */
  observe(event: DaemonEvent): void {
    switch (event.type) {
      case 'ejection':
        if (event.ejected) this.#ejections.inc({ project: event.project, service: event.service, replica: String(event.replica) });
        return;
      case 'container':
        if (event.action === 'restarting') this.#restarts.inc({ project: event.project, service: event.service, replica: String(event.replica) });
        return;
      case 'health':
        if (event.source === 'probe' && event.probes) this.#startProbes.inc({ project: event.project, service: event.service }, event.probes);
        return;
      case 'reconcile':
        if (event.phase === 'done' && event.durationMs !== undefined) this.#reconciles.observe({ project: event.project }, event.durationMs / 1000);
        return;
      case 'build': {
        const key = `${event.project}/${event.service}`;
        if (event.phase === 'start') this.#buildStarts.set(key, event.time);
        if (event.phase !== 'done' && event.phase !== 'failed') return;
        const started = this.#buildStarts.get(key);
        this.#buildStarts.delete(key);
        if (started !== undefined) this.#builds.observe({ project: event.project, service: event.service }, Math.max(0, event.time - started) / 1000);
        return;
      }
      default:
        return;
    }
  }

  /** One finished client request (HTTP/2 streams, through `onRequest`): counted as `count` counts it. */
  request(project: string, entry: Pick<AccessLogEntry, 'service' | 'method' | 'status' | 'durationMs' | 'upstream' | 'grpcStatus'> & Partial<PolicyRequestEntry>): void {
    this.count(project, entry.service, entry.upstream, entry.method, entry.status, entry.durationMs, entry.route, entry.target, entry.error);
    if (entry.grpcStatus !== undefined) this.#grpc(project, entry.service, entry.grpcStatus);
  }

  /**
   * One finished HTTP/1.x request (the proxies' `countRequest`, mesh/proxy/request-report.ts): on the hot path, so
   * counted in plain numbers (metrics-ingress.ts) from plain arguments (no entry object per request).
   */
  count(project: string, service: string, upstream: string | undefined, method: string, status: number, durationMs: number, route: string | undefined, target: string | undefined, error: string | undefined): void {
    // A listener counts under the same project and service request after request: those two lookups are skipped then.
    let series = this.#last;
    if (series === undefined || series.project !== project || series.service !== service) series = this.#series(project, service);
    series.record(upstream, method, status, durationMs);
    if (route !== undefined || error !== undefined) this.#policy(project, service, status, route, target, error);
  }

  #series(project: string, service: string): IngressSeries {
    let byService = this.#ingress.get(project);
    if (byService === undefined) {
      byService = new Map();
      this.#ingress.set(project, byService);
    }
    let series = byService.get(service);
    if (series === undefined) {
      series = new IngressSeries(project, service, this.#duration, replicaLabel);
      byService.set(service, series);
    }
    this.#last = series;
    return series;
  }

  /**
   * A gateway's cumulative east-west totals (every stats report): the increase since the last report is added with
   * path="east-west", and to the route and policy-refusal counters as an ingress request's is. A restarted gateway
   * counts from 0 again, so its first totals are all increase.
   */
  eastWestRequests(project: string, startedAt: number, totals: GatewayStats['requests'], gateway = 0): void {
    // Each of a project's gateways keeps its own totals, and so does each process of one gateway: a restarted one
    // counts from 0, and during a code swap (mesh/gateway/supervisor.ts) the old and the new worker report in turns.
    const source = `${project}\0${gateway}`;
    const processes = this.#eastWestSeen.get(source) ?? new Map<number, Map<string, number>>();
    this.#eastWestSeen.set(source, processes);
    let counts = processes.get(startedAt);
    if (!counts) {
      // A gateway older than these metrics (the daemon restarted) already had its totals exported by the last
      // daemon: take them as the baseline instead of counting them twice.
      const baseline = startedAt < this.#createdAt;
      counts = new Map(baseline ? totals.map((t) => [eastWestKey(t), t.count]) : []);
      processes.set(startedAt, counts);
      for (const old of [...processes.keys()].sort((a, b) => b - a).slice(2)) processes.delete(old);
    }
    for (const t of totals) {
      const key = eastWestKey(t);
      const delta = t.count - (counts.get(key) ?? 0);
      counts.set(key, t.count);
      if (delta <= 0) continue;
      const labels = { project, service: t.service, replica: replicaLabel(t.upstream), method: methodLabel(t.method), code_class: t.codeClass, path: 'east-west' };
      this.#requests.inc(labels, delta);
      if (t.route !== undefined || t.reason !== undefined) {
        const status = t.codeClass === 'none' ? 0 : Number(t.codeClass[0]) * 100;
        this.#policy(project, t.service, status, t.route || undefined, t.target || undefined, t.reason || undefined, delta);
      }
    }
  }

  /** One upstream attempt (HTTP proxies' `onAttempt`). */
  attempt(project: string, stats: AttemptStats): void {
    if (stats.outcome === 'connect-error') {
      this.#connectErrors.inc({ project, service: stats.service, replica: replicaLabel(stats.upstream) });
    }
    if (stats.attempt > 1) this.#retries.inc({ project, service: stats.service });
  }

  expose(): Promise<string> {
    return this.registry.metrics();
  }

  #replicaGauges(registers: client.Registry[], snapshot: () => ServiceTableRow[]): void {
    new client.Gauge({
      name: 'cmesh_replica_healthy',
      help: '1 when the replica may take traffic (healthy, not ejected, not draining), else 0.',
      labelNames: ['project', 'service', 'replica'],
      registers,
      collect() {
        this.reset();
        for (const row of snapshot()) {
          for (const r of row.replicas) this.set({ project: row.project, service: row.service, replica: String(r.replica) }, r.routable ? 1 : 0);
        }
      },
    });
    new client.Gauge({
      name: 'cmesh_replicas_desired',
      help: 'Replicas the project asks for, per service.',
      labelNames: ['project', 'service'],
      registers,
      collect() {
        this.reset();
        for (const row of snapshot()) this.set({ project: row.project, service: row.service }, row.desired);
      },
    });
    new client.Gauge({
      name: 'cmesh_replicas_ready',
      help: 'Replicas passing health and taking traffic, per service.',
      labelNames: ['project', 'service'],
      registers,
      collect() {
        this.reset();
        for (const row of snapshot()) this.set({ project: row.project, service: row.service }, row.ready);
      },
    });
  }
}

/** One series of a gateway's totals: every field but the count. */
function eastWestKey(t: GatewayStats['requests'][number]): string {
  return `${t.service}\0${t.upstream ?? ''}\0${t.method}\0${t.codeClass}\0${t.route ?? ''}\0${t.target ?? ''}\0${t.reason ?? ''}`;
}
