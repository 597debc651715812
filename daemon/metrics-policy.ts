// Traffic-policy metrics: requests per route and target, and the requests the policy answered itself, by reason.

import client from 'prom-client';
import type { AccessLogEntry } from '../mesh/proxy/index.ts';
import type { BreakerView } from './api/policy-control.ts';

export interface BreakerCounters {
  project: string;
  breakers: BreakerView[];
}

/** The proxy's own answers that come from the policy, not from a failing replica. */
const POLICY_REASONS = new Set(['rate-limited', 'overflow', 'fault-injected', 'no-route']);

export type PolicyRequestEntry = Pick<AccessLogEntry, 'service' | 'status' | 'route' | 'target' | 'error'>;

/** Registers the counters; returns what to call for every finished request. */
export function registerPolicyMetrics(registers: client.Registry[], breakers: () => BreakerCounters[]): (project: string, entry: PolicyRequestEntry) => void {
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
  const routes = new client.Counter({
    name: 'cmesh_route_requests_total',
    help: 'Requests on a published port with a route table, by route (its index) and target service.',
    labelNames: ['project', 'service', 'route', 'target', 'code_class'],
    registers,
  });
  const rejected = new client.Counter({
    name: 'cmesh_policy_rejections_total',
    help: 'Requests the proxy answered because of its traffic policy: rate-limited (429), overflow (503), fault-injected, no-route (404).',
    labelNames: ['project', 'service', 'reason'],
    registers,
  });
  return (project, entry) => {
    if (entry.route !== undefined) {
      // Only the index: the match text would make label values as long and varied as users' regexes.
      const route = entry.route.split(' ', 1)[0] ?? entry.route;
      const codeClass = entry.status === 0 ? 'none' : `${Math.floor(entry.status / 100)}xx`;
      routes.inc({ project, service: entry.service, route, target: entry.target ?? entry.service, code_class: codeClass });
    }
    if (entry.error !== undefined && POLICY_REASONS.has(entry.error)) rejected.inc({ project, service: entry.service, reason: entry.error });
  };
}
