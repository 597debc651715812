// Traffic-policy metrics: requests per route and target, and the requests the policy answered itself, by reason.

import client from 'prom-client';
import type { AccessLogEntry } from '../mesh/proxy/index.ts';
import { type BreakerView, POLICY_REASONS } from './api/policy-control.ts';

export interface BreakerCounters {
  project: string;
  breakers: BreakerView[];
}

/** Index = status / 100; 0 stands for no status (the client left before a response head). */
const CODE_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

type RouteSeries = Map<string, Map<string, Map<string, Map<string, number[]>>>>;

/**
 * The counts of one (project, service, route, target): nested maps, so the hot path builds no key string. Written out
 * without a get-or-make helper: its closure argument alone cost 1.5 % of the daemon's CPU under load (profiled).
 */
function seriesOf(root: RouteSeries, project: string, service: string, route: string, target: string): number[] {
  let services = root.get(project);
  if (services === undefined) {
    services = new Map();
    root.set(project, services);
  }
  let routes = services.get(service);
  if (routes === undefined) {
    routes = new Map();
    services.set(service, routes);
  }
  let targets = routes.get(route);
  if (targets === undefined) {
    targets = new Map();
    routes.set(route, targets);
  }
  let counts = targets.get(target);
  if (counts === undefined) {
    counts = [0, 0, 0, 0, 0, 0];
    targets.set(target, counts);
  }
  return counts;
}

export type PolicyRequestEntry = Pick<AccessLogEntry, 'service' | 'status' | 'route' | 'target' | 'error'>;

/** Counts `n` finished requests (a gateway's increase, else 1) of a service: by route when one matched, by reason when the policy refused. */
export type PolicyCounter = (project: string, service: string, status: number, route: string | undefined, target: string | undefined, error: string | undefined, n?: number) => void;

/** Registers the counters; returns what to call for every finished request (plain arguments: the hot path). */
export function registerPolicyMetrics(registers: client.Registry[], breakers: () => BreakerCounters[]): PolicyCounter {
  new client.Gauge({
    name: 'cmesh_circuit_breaker_requests',
    help: 'Requests a target service circuit breaker holds now: in flight, and pending (admitted, not yet sent to a replica).',
    labelNames: ['project', 'service', 'state'],
    registers,
    collect() {
      this.reset();
      for (const { project, breakers: list } of breakers()) {
        for (const b of list) {
          this.set({ project, service: b.service, state: 'in_flight' }, b.requests);
          this.set({ project, service: b.service, state: 'pending' }, b.pending);
        }
      }
    },
  });
  new client.Gauge({
    name: 'cmesh_circuit_breaker_connections',
    help: 'Open upstream connections a target service circuit breaker counts (max_connections), idle keep-alive ones included.',
    labelNames: ['project', 'service'],
    registers,
    collect() {
      this.reset();
      for (const { project, breakers: list } of breakers()) for (const b of list) this.set({ project, service: b.service }, b.connections);
    },
  });
  new client.Counter({
    name: 'cmesh_circuit_breaker_overflow_total',
    help: 'Requests a target service circuit breaker refused (503 overflow), by the bound that was reached.',
    labelNames: ['project', 'service', 'bound'],
    registers,
    collect() {
      this.reset();
      for (const { project, breakers: list } of breakers()) {
        for (const b of list) for (const [bound, n] of Object.entries(b.overflow)) this.inc({ project, service: b.service, bound }, n);
      }
    },
  });
  // Counted in plain numbers on the hot path and handed to prom-client at scrape time: its inc() validates and hashes
  // the label object per call (~0.5 µs, a tenth of the 20-route CPU budget of issue #17; see metrics-ingress.ts).
  // project → service → route label (`#<i> <match>`) → target → counts by status class (CODE_CLASSES).
  const routeCounts: RouteSeries = new Map();
  new client.Counter({
    name: 'cmesh_route_requests_total',
    help: 'Requests on a published port (or a call by name through the east-west gateway) with a route table, by route (its index) and target service.',
    labelNames: ['project', 'service', 'route', 'target', 'code_class'],
    registers,
    collect() {
      this.reset();
      for (const [project, services] of routeCounts) {
        for (const [service, routes] of services) {
          for (const [label, targets] of routes) {
            // Only the index: the match text would make label values as long and varied as users' regexes.
            const route = label.split(' ', 1)[0] ?? label;
            for (const [target, counts] of targets) {
              for (const [i, n] of counts.entries()) if (n > 0) this.inc({ project, service, route, target, code_class: CODE_CLASSES[i]! }, n);
            }
          }
        }
      }
    },
  });
  const rejected = new client.Counter({
    name: 'cmesh_policy_rejections_total',
    help: 'Requests the proxy (ingress or east-west gateway) answered because of its traffic policy: rate-limited (429), overflow (503), fault-injected, no-route (404).',
    labelNames: ['project', 'service', 'reason'],
    registers,
  });
  return (project, service, status, route, target, error, n = 1) => {
    if (route !== undefined) {
      const counts = seriesOf(routeCounts, project, service, route, target ?? service);
      const cls = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
      counts[cls]! += n;
    }
    if (error !== undefined && POLICY_REASONS.has(error)) rejected.inc({ project, service, reason: error }, n);
  };
}
