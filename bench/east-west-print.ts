// The table bench/east-west.ts prints (its --json prints the same result as JSON).

import type { Open } from './ew-client.ts';

// Each path serves a request in well under a millisecond of work: a median above this is a queue (the host could not
// keep the rate), and then the added latency measures the queue, not the hop.
export const SATURATED_P50_MS = 5;

export function printTable(r: {
  request: string;
  loadAverage: { atStart: string; atEnd: string };
  maxRps: Record<string, number | undefined>;
  rpsRatioVsDirect: { roundRobin: number; oneReplica: number; nginxVsRoundRobin: number | undefined };
  cpuUsPerRequest: { gateway?: number; nginx?: number; ingressDaemon?: number };
  restOfPathUsPerRequest: Record<string, number | undefined>;
  saturated: string[];
  fixedRateLatencyMs: { rate: number; directOne: Open; directRoundRobin: Open; gateway: Open; nginx: Open | undefined };
  addedP50Ms: { gateway: number; nginx: number | undefined };
  addedP99Ms: { gateway: number; nginx: number | undefined };
  calibrated: { rate: number; directRoundRobin: Open; gateway: Open; nginx: Open | undefined; addedP50Ms: { gateway: number; nginx: number | undefined }; saturated: string[]; ladder: { rate: number; saturated: string[] }[] };
  cpuBoundRatio: { gateway: number | undefined; nginx: number | undefined };
  wholePathUsPerRequest: { direct: number | undefined; gateway: number | undefined; nginx: number | undefined };
  errors: number;
  benchSeconds: number;
}): void {
  const f = (v: number | undefined, d = 0): string => (v === undefined ? '-' : v.toFixed(d));
  const m = r.maxRps;
  const l = r.fixedRateLatencyMs;
  console.log(`${r.request}; load average at start ${r.loadAverage.atStart}, at end ${r.loadAverage.atEnd}; ${r.benchSeconds} s in all`);
  console.log(`max RPS      direct 1 IP ${f(m.directOne)}  direct 3 IPs ${f(m.directRoundRobin)}  gateway ${f(m.gateway)}  nginx ${f(m.nginx)}  (ingress from host ${f(m.ingressFromHost)})`);
  console.log(`             gateway/direct 3 IPs ${f(r.rpsRatioVsDirect.roundRobin, 2)} (goal ≥ 0.70)  gateway/direct 1 IP ${f(r.rpsRatioVsDirect.oneReplica, 2)}  nginx/direct 3 IPs ${f(r.rpsRatioVsDirect.nginxVsRoundRobin, 2)}`);
  console.log(`CPU µs/req   gateway (east-west) ${f(r.cpuUsPerRequest.gateway, 1)}  nginx ${f(r.cpuUsPerRequest.nginx, 1)}  daemon (ingress) ${f(r.cpuUsPerRequest.ingressDaemon, 1)}`);
  const o = r.restOfPathUsPerRequest;
  console.log(`             caller+replicas: direct 1 IP ${f(o.directOne, 1)}  direct 3 IPs ${f(o.directRoundRobin, 1)}  gateway ${f(o.gateway, 1)}  nginx ${f(o.nginx, 1)}  (ingress: replicas ${f(o.ingressReplicas, 1)})`);
  const p = (o: Open | undefined): string => (o ? `${o.p50}/${o.p99}` : '-');
  console.log(`@${l.rate} req/s  p50/p99 ms  direct 1 IP ${p(l.directOne)}  direct 3 IPs ${p(l.directRoundRobin)}  gateway ${p(l.gateway)}  nginx ${p(l.nginx)}`);
  console.log(`added p50    gateway ${f(r.addedP50Ms.gateway, 3)} ms (goal ≤ 0.3 ms)  nginx ${f(r.addedP50Ms.nginx, 3)} ms   (vs direct 3 IPs)`);
  if (r.saturated.length > 0) console.log(`SATURATED at this rate (p50 over ${SATURATED_P50_MS} ms: queueing, not the path): ${r.saturated.join(', ')} — the latency lines say nothing`);
  console.log(`added p99    gateway ${f(r.addedP99Ms.gateway, 3)} ms  nginx ${f(r.addedP99Ms.nginx, 3)} ms   errors ${r.errors}`);
  const c = r.calibrated;
  console.log(`calibrated   rates tried ${c.ladder.map((x) => `${x.rate}${x.saturated.length > 0 ? ' (queued)' : ''}`).join(', ')}: from half the slower proxy's max, halving until no path queues`);
  console.log(`@${c.rate} req/s (calibrated)  p50/p99 ms  direct 3 IPs ${p(c.directRoundRobin)}  gateway ${p(c.gateway)}  nginx ${p(c.nginx)}`);
  console.log(`             added p50 gateway ${f(c.addedP50Ms.gateway, 3)} ms  nginx ${f(c.addedP50Ms.nginx, 3)} ms${c.saturated.length > 0 ? `  SATURATED: ${c.saturated.join(', ')}` : ''}`);
  const w = r.wholePathUsPerRequest;
  console.log(`whole path   µs CPU/req (caller + proxy + replicas): direct 3 IPs ${f(w.direct, 1)}  gateway ${f(w.gateway, 1)}  nginx ${f(w.nginx, 1)}`);
  console.log(`CPU bound    gateway/direct ${f(r.cpuBoundRatio.gateway, 2)}  nginx/direct ${f(r.cpuBoundRatio.nginx, 2)}  (rest direct ÷ (rest + proxy), µs per request: what the shared cores allow)`);
}
