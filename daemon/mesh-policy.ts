// The daemon's side of the traffic policy: one ProjectPolicyState per project, one ListenerPolicy per published
// HTTP port (resolving route targets to the registry's pools), in-place updates on `up`, `cmesh fault` and the
// `cmesh routes` view. Everything here lives in the daemon process: limits and counters are not shared with the
// east-west gateways (they get the same policy and run-time faults in their table, and keep their own state).

import { ListenerPolicy } from '../mesh/policy/listener-policy.ts';
import { ProjectPolicyState } from '../mesh/policy/project-state.ts';
import { breakerViews, routeRows } from '../mesh/policy/views.ts';
import type { UpstreamPool } from '../mesh/upstream-pool.ts';
import { CmeshError } from './api/errors.ts';
import type { BreakerView, FaultResponse, RouteTableView, RoutesView } from './api/policy-control.ts';
import type { ProjectSpec } from './api/project.ts';
import { targetPort } from './api/route-ports.ts';
import type { FaultSpec } from './api/traffic-policy.ts';

export interface PolicyListener {
  service: string;
  host: string;
  port: number;
  policy: ListenerPolicy;
}

export class MeshPolicies {
  readonly #states = new Map<string, ProjectPolicyState>();
  readonly #specs = new Map<string, ProjectSpec>();
  readonly #poolFor: (project: string, service: string, target: number) => UpstreamPool;

  constructor(poolFor: (project: string, service: string, target: number) => UpstreamPool) {
    this.#poolFor = poolFor;
  }

  /** A new desired spec: limiters, breakers and file faults follow it (run-time faults stay). */
  update(spec: ProjectSpec): void {
    this.#specs.set(spec.name, spec);
    const services = Object.fromEntries(Object.values(spec.services).map((s) => [s.name, s.mesh.policy === undefined ? {} : { policy: s.mesh.policy }]));
    this.#state(spec.name).update(services);
  }

  forget(project: string): void {
    this.#states.delete(project);
    this.#specs.delete(project);
  }

  /** The policy of one published HTTP port of `service`, whose container side is `target`. */
  listenerPolicy(project: string, service: string, target: number): ListenerPolicy {
    const policy = this.#specs.get(project)?.services[service]?.mesh.policy;
    return new ListenerPolicy(
      {
        service,
        listenerPort: target,
        state: this.#state(project),
        resolve: (t, listenerPort) => {
          const svc = this.#specs.get(project)?.services[t.service];
          if (svc === undefined) return undefined;
          // The listener's own service keeps the port it was published for.
          const port = t.service === service && t.port === undefined ? target : targetPort(svc, t.port, listenerPort);
          if (port === undefined) return undefined;
          return { service: t.service, pool: this.#poolFor(project, t.service, port), mesh: svc.mesh };
        },
      },
      policy,
    );
  }

  /** `cmesh fault`: run-time faults for a service of the project, or none (`undefined` clears). */
  setFaults(project: string, service: string, faults: FaultSpec | undefined): FaultResponse {
    const spec = this.#specs.get(project);
    if (spec === undefined || spec.services[service] === undefined) {
      throw new CmeshError('CMESH_E_SERVICE_NOT_FOUND', `no service "${service}" in project "${project}"`, {
        hint: spec === undefined ? 'run `cmesh up` first' : `known services: ${Object.keys(spec.services).join(', ')}`,
      });
    }
    this.#state(project).setRuntimeFaults(service, faults);
    return this.#faultView(project, service);
  }

  /** The run-time faults in effect, by service. */
  runtimeFaults(project: string): Record<string, FaultSpec> {
    const state = this.#states.get(project);
    const out: Record<string, FaultSpec> = {};
    for (const service of Object.keys(this.#specs.get(project)?.services ?? {})) {
      const f = state?.runtimeFaults(service);
      if (f !== undefined) out[service] = f;
    }
    return out;
  }

  view(project: string, listeners: PolicyListener[]): RoutesView {
    const ports: RouteTableView[] = listeners.map((l) => ({
      service: l.service,
      host: l.host,
      port: l.port,
      routes: routeRows(l.policy.table),
    }));
    const services = Object.keys(this.#specs.get(project)?.services ?? {}).sort();
    const faults = services.map((s) => this.#faultView(project, s)).filter((f) => f.source !== 'none');
    return { ports, faults, breakers: this.breakers(project) };
  }

  /** Breakers worth showing: configured ones, and any that refused a request. */
  breakers(project: string): BreakerView[] {
    const spec = this.#specs.get(project);
    const state = this.#states.get(project);
    if (spec === undefined || state === undefined) return [];
    return breakerViews(state, (service) => spec.services[service]?.mesh.policy?.circuitBreaker);
  }

  projects(): string[] {
    return [...this.#specs.keys()];
  }

  #faultView(project: string, service: string): FaultResponse {
    const state = this.#state(project);
    const runtime = state.runtimeFaults(service);
    const file = this.#specs.get(project)?.services[service]?.mesh.policy?.faults;
    if (runtime !== undefined) return { service, faults: runtime, source: 'runtime' };
    if (file !== undefined) return { service, faults: file, source: 'file' };
    return { service, source: 'none' };
  }

  #state(project: string): ProjectPolicyState {
    let s = this.#states.get(project);
    if (s === undefined) {
      s = new ProjectPolicyState();
      this.#states.set(project, s);
    }
    return s;
  }
}
