// CPU per request of the traffic policy's own work in-process, the part of bench/policy.ts's 20-route cost that load
// bends least: ListenerPolicy.decide() over the same 20-route table (requests match the 20th, a rate limit above the
// load) plus the metrics the daemon records per routed request, against the plain path's metrics call.
// Usage: npx tsx bench/policy-decide.ts [--n N]   (5 interleaved rounds of N requests; ns of process CPU per request)

import type { TrafficPolicy } from '../daemon/api/traffic-policy.ts';
import { DaemonMetrics } from '../daemon/metrics.ts';
import { ListenerPolicy } from '../mesh/policy/listener-policy.ts';
import { ProjectPolicyState } from '../mesh/policy/project-state.ts';
import { routeLabel } from '../mesh/proxy/access-log.ts';
import { TestPool, testMesh } from '../mesh/proxy/testing.ts';
import { benchArgs } from './args.ts';

const n = benchArgs('usage: npx tsx bench/policy-decide.ts [--n N]', { n: { type: 'number' } }).n ?? 500_000;
// The table of bench/policy.ts: 19 routes that miss `/bytes?n=1024` (prefixes, a method, a header), the 20th that hits.
const routes: NonNullable<TrafficPolicy['routes']> = Array.from({ length: 19 }, (_, k) => ({
  match: k % 3 === 0 ? { pathPrefix: `/r${k}/` } : k % 3 === 1 ? { pathPrefix: '/b', methods: ['POST'] } : { pathPrefix: '/bytes', headers: { [`x-r${k}`]: { exact: '1' } } },
  to: [{ service: 'routed', weight: 1 }],
}));
routes.push({ match: { pathPrefix: '/bytes' }, to: [{ service: 'routed', weight: 1 }] });
const policy: TrafficPolicy = { routes, rateLimit: { requestsPerSecond: 1e9, burst: 1e9, key: 'ip' } };
const state = new ProjectPolicyState();
state.update({ routed: { policy } });
const pool = new TestPool('routed', []);
const listener = new ListenerPolicy({ service: 'routed', listenerPort: 3000, state, resolve: (t) => ({ service: t.service, pool, mesh: testMesh() }) }, policy);
const headers = ['Host', '127.0.0.1:8080', 'User-Agent', 'wrk'];
const metrics = new DaemonMetrics({ defaultMetrics: false });
type Entry = { service: string; method: string; status: number; durationMs: number; upstream: string; route?: string };
// Built per request as the proxy's accessLogEntry does (a literal, `route` added after): a spread copy would put
// ~1.4 µs of object cloning into the measure that the daemon never pays.
const entry = (): Entry => ({ service: 'routed', method: 'GET', status: 200, durationMs: 0.9, upstream: 'routed#1' });

const cpuNs = (fn: () => void): number => {
  const t0 = process.cpuUsage();
  for (let k = 0; k < n; k++) fn();
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / n;
};
for (let round = 1; round <= 5; round++) {
  const plain = cpuNs(() => metrics.request('p', entry()));
  const routed = cpuNs(() => {
    const d = listener.decide('GET', '/bytes?n=1024', headers, '127.0.0.1');
    if (d?.kind === 'forward') d.breaker.done(true);
    const e = entry();
    if (d?.kind === 'forward' && d.route !== undefined) e.route = routeLabel(d.route);
    metrics.request('p', e);
  });
  console.log(`round ${round}: plain metrics ${plain.toFixed(0)} ns, routed decide + breaker + metrics ${routed.toFixed(0)} ns, added ${(routed - plain).toFixed(0)} ns per request`);
}
