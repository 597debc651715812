// CPU per DaemonMetrics.request() — the metrics work the daemon does for every proxied request (issue #15 part 2).
// Usage: npx tsx bench/metrics-request.ts [--n N]   (3 rounds of N calls over 3 replicas; prints ns of CPU per call)

import { DaemonMetrics } from '../daemon/metrics.ts';
import { benchArgs } from './args.ts';

const n = benchArgs('usage: npx tsx bench/metrics-request.ts [--n N]', { n: { type: 'number' } }).n ?? 1_000_000;
const m = new DaemonMetrics({ defaultMetrics: false });
const entries = [1, 2, 3].map((r) => ({ service: 'web', method: 'GET', status: 200, durationMs: 0.8 + r / 10, upstream: `web#${r}` }));
for (let round = 1; round <= 3; round++) {
  const t0 = process.cpuUsage();
  for (let k = 0; k < n; k++) m.request('shop', entries[k % 3]!);
  const t = process.cpuUsage(t0);
  console.log(`round ${round}: ${(((t.user + t.system) * 1000) / n).toFixed(0)} ns CPU per request()`);
}
// The counts reach the exposition: nothing was lost to the batching.
const count = (await m.expose()).split('\n').find((l) => l.startsWith('cmesh_request_duration_seconds_count'));
console.log(count);
