// CPU per request of the east-west gateway's request counting (mesh/gateway/request-counts.ts) against the string-key
// Map it replaced (key built per request), interleaved in one process: N calls each, over 3 replicas.
// Usage: npx tsx bench/gateway-counts.ts [--n N] [--rounds R]

import { RequestCounts } from '../mesh/gateway/request-counts.ts';
import { benchArgs } from './args.ts';

const opts = benchArgs('usage: npx tsx bench/gateway-counts.ts [--n N] [--rounds R]', { n: { type: 'number' }, rounds: { type: 'number' } });
const n = opts.n ?? 2_000_000;
const rounds = opts.rounds ?? 5;
// Upstream ids and service names live as long as their pools: the same strings every request, as here.
const entries = [1, 2, 3].map((r) => ({ service: 'web', upstream: `web#${r}`, method: 'GET', status: 200 }));

/** The replaced code (gateway.ts before): a key string per request, then a Map lookup. */
const KNOWN = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);
function keyed(): (e: (typeof entries)[number]) => void {
  const rows = new Map<string, { count: number }>();
  return (e) => {
    const method = KNOWN.has(e.method) ? e.method : 'OTHER';
    const codeClass = e.status >= 100 && e.status < 600 ? `${Math.floor(e.status / 100)}xx` : 'none';
    const key = `${e.service}\0${e.upstream ?? ''}\0${method}\0${codeClass}`;
    const row = rows.get(key);
    if (row) row.count++;
    else rows.set(key, { count: 1 });
  };
}

function cells(): (e: (typeof entries)[number]) => void {
  const c = new RequestCounts();
  return (e) => c.count(e.service, e.upstream, e.method, e.status);
}

const nsPerCall = (count: (e: (typeof entries)[number]) => void): number => {
  const t0 = process.cpuUsage();
  for (let k = 0; k < n; k++) count(entries[k % 3]!);
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / n;
};
for (let round = 1; round <= rounds; round++) {
  // Alternating order: neither variant always runs on a warmer (or busier) moment.
  const [a, b] = round % 2 === 1 ? [nsPerCall(keyed()), nsPerCall(cells())] : [nsPerCall(cells()), nsPerCall(keyed())].reverse();
  console.log(`round ${round}: key string ${a!.toFixed(1)} ns, cells ${b!.toFixed(1)} ns CPU per request (load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
}
