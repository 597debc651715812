// Traffic-policy metrics: requests per route and target, and the requests the policy answered itself, by reason.

import client from 'prom-client';
import type { AccessLogEntry } from '../mesh/proxy/index.ts';

/** The proxy's own answers that come from the policy, not from a failing replica. */
const POLICY_REASONS = new Set(['rate-limited', 'overflow', 'fault-injected', 'no-route']);

export type PolicyRequestEntry = Pick<AccessLogEntry, 'service' | 'status' | 'route' | 'target' | 'error'>;

/** Registers the counters; returns what to call for every finished request. */
export function registerPolicyMetrics(registers: client.Registry[]): (project: string, entry: PolicyRequestEntry) => void {
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
