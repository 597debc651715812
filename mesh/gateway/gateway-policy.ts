// Traffic policy on the east-west path: the gateway applies a service's routes, splits, rate limits, breakers, retry
// and faults to calls by name exactly as the daemon does on its published ports (the same ListenerPolicy), from the
// policy and run-time faults the daemon sends in the table. Its limiters, breakers and counters are this process's own.

import type { GatewayPolicyReport, GatewayService, GatewayTable } from '../../daemon/api/gateway-control.ts';
import type { MeshSpec } from '../../daemon/api/project.ts';
import { pickPort } from '../../daemon/api/route-ports.ts';
import { ListenerPolicy, type ResolvedTarget } from '../policy/listener-policy.ts';
import { ProjectPolicyState } from '../policy/project-state.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import { breakerViews, routeRows } from '../policy/views.ts';

export class GatewayPolicies {
  readonly state: ProjectPolicyState;
  readonly #poolFor: (service: string, port: number) => UpstreamPool;
  #services = new Map<string, GatewayService>();
  /** What `#resolve` reads of each service, made once per table (it runs on every request a policy acts on). */
  #targets = new Map<string, { ports: number[]; mesh: MeshSpec }>();
  /** One per (service, port) listener; a rebound listener gets the same one back, counters and all. */
  readonly #listeners = new Map<string, { service: string; policy: ListenerPolicy }>();

  constructor(poolFor: (service: string, port: number) => UpstreamPool, rand?: () => number) {
    this.#poolFor = poolFor;
    this.state = new ProjectPolicyState(rand);
  }

  /** A new table: limiters, breakers and faults follow it in place (buckets carry over when a spec is unchanged). */
  update(table: GatewayTable): void {
    this.#services = new Map(table.services.map((s) => [s.name, s]));
    this.#targets = new Map(
      table.services.map((s) => [s.name, { ports: s.ports.map((p) => p.port), mesh: { ...s.mesh, ...(s.policy === undefined ? {} : { policy: s.policy }) } as MeshSpec }]),
    );
    this.state.update(Object.fromEntries(table.services.map((s) => [s.name, s.policy === undefined ? {} : { policy: s.policy }])));
    for (const s of table.services) this.state.setRuntimeFaults(s.name, s.faults);
    for (const l of this.#listeners.values()) l.policy.update(this.#services.get(l.service)?.policy);
  }

  /** What `cmesh routes` shows of calls by name: each listener with a route table, and the breakers. */
  report(): GatewayPolicyReport {
    const ports = [...this.#listeners.entries()]
      .filter(([, l]) => l.policy.table !== undefined)
      .map(([key, l]) => ({ service: l.service, host: 'east-west', port: Number(key.slice(key.lastIndexOf(':') + 1)), routes: routeRows(l.policy.table) }))
      .sort((a, b) => a.service.localeCompare(b.service) || a.port - b.port);
    return { ports, breakers: breakerViews(this.state, (service) => this.#services.get(service)?.policy?.circuitBreaker) };
  }

  /** The policy of `service`'s listener on container port `port` (HTTP only: TCP is balanced per connection). */
  listener(service: string, port: number): ListenerPolicy {
    const key = `${service}:${port}`;
    const had = this.#listeners.get(key);
    if (had !== undefined) return had.policy;
    const policy = new ListenerPolicy(
      { service, listenerPort: port, state: this.state, resolve: (t, listenerPort) => this.#resolve(t.service, t.port, listenerPort) },
      this.#services.get(service)?.policy,
    );
    this.#listeners.set(key, { service, policy });
    return policy;
  }

  /**
   * A route target among the services this gateway serves, on the port the daemon's rule picks (`service:port`, else
   * the listener's number, else its first meshed port). A target served by another gateway of the project (only when
   * TCP ports collide) is unknown here: undefined, answered 404 no-route.
   */
  #resolve(service: string, wanted: number | undefined, listenerPort: number): ResolvedTarget | undefined {
    const t = this.#targets.get(service);
    if (t === undefined) return undefined;
    const port = pickPort(t.ports, wanted, listenerPort);
    if (port === undefined) return undefined;
    return { service, pool: this.#poolFor(service, port), mesh: t.mesh };
  }
}
