// prom-client's default process metrics, with `nodejs_gc_duration_seconds` counted by an observer of our own.
// prom-client's observer runs a labelled Histogram.observe() per GC (label validation and hashing) and reads only the
// first entry of each batch node delivers (the rest are lost); under proxy load, with the daemon's 1 MiB semi-space
// (cli/daemon-bundle.ts), scavenges come by the hundred per second and that observer took ~2 % of the daemon's CPU
// (profile in bench/RESULTS.md). Ours adds every entry in plain numbers; the exposition is built at scrape time.

import { constants, PerformanceObserver } from 'node:perf_hooks';
import type client from 'prom-client';
import eventLoopLag from 'prom-client/lib/metrics/eventLoopLag.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';
import { type HistogramSeries, PlainHistogram } from './metrics-histogram.ts';

/** prom-client's buckets and help for this histogram, so dashboards built on it keep working. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
const GC_HELP = 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.';
const GC_KINDS: [number, string][] = [
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];

/**
 * The event-loop delay histogram's timer, ms (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds): node
 * samples the loop's delay each time this timer fires. prom-client's default, 10 ms, woke an idle daemon 100 times a
 * second, ~87 % of its wake-ups, and cost ~2.6-3.1 ms of CPU a second on its own (bench/RESULTS.md, ctlplane); at
 * 100 ms the lag is still sampled 10 times a second, each sample as exact.
 */
export const EVENT_LOOP_RESOLUTION_MS = 100;

/** Every default metric of prom-client's collectDefaultMetrics, under `prefix`, the GC histogram our own. */
export function registerDefaultMetrics(registry: client.Registry, prefix: string): { stop(): void } {
  const config = { prefix, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS };
  for (const register of [
    processCpuTotal,
    processStartTime,
    osMemoryHeap,
    processOpenFileDescriptors,
    processMaxFileDescriptors,
    eventLoopLag,
    processResources,
    processHandles,
    processRequests,
    heapSizeAndUsed,
    heapSpacesSizeAndUsed,
    version,
  ]) {
    register(registry, config);
  }
  return registerGcDuration(registry, `${prefix}nodejs_gc_duration_seconds`);
}

/** The GC-duration histogram fed by a PerformanceObserver: per entry, a kind lookup and a bucket search. */
export function registerGcDuration(registry: client.Registry, name: string): { stop(): void } {
  const histogram = new PlainHistogram<{ kind: string }>(name, GC_HELP, GC_BUCKETS);
  registry.registerMetric(histogram as unknown as client.Metric);
  // Series made lazily, in the order kinds first occur (as prom-client's), indexed by node's kind constant.
  const byKind = new Map<number, HistogramSeries<{ kind: string }>>();
  const names = new Map(GC_KINDS);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // `detail.kind` (node ≥ 16; @types/node's PerformanceEntry does not declare it).
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
      let series = byKind.get(kind);
      if (series === undefined) {
        series = histogram.series({ kind: names.get(kind) ?? 'unknown' });
        byKind.set(kind, series);
      }
      histogram.observe(series, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { stop: () => observer.disconnect() };
}
