// Published ports: one ProxyListener per (service, host ip, published TCP port) and one UdpForwarder per published UDP
// port, opened from the desired state, kept across reconciles (scaling only changes the pool behind them), re-bound
// when the mapping changes, closed on down and daemon stop.

import { type AccessLogEntry, type AttemptStats, type ProxyListener, publishService, type RequestCounter } from '../mesh/proxy/index.ts';
import { type DatagramPool, UdpForwarder, type UdpForwarderStats } from '../mesh/udp/forwarder.ts';
import type { TlsServing } from '../mesh/tls/serving.ts';
import type { UpstreamPool } from '../mesh/upstream-pool.ts';
import { bindAddress } from './api/bind-address.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import type { BreakerView, RoutesView } from './api/policy-control.ts';
import type { ProjectSpec, ServiceSpec } from './api/project.ts';
import type { TlsSpec } from './api/tls.ts';
import type { FaultSpec } from './api/traffic-policy.ts';
import type { GatewayStats } from './api/gateway-control.ts';
import { withEastWestRoutes } from './gateway-table.ts';
import { MeshPolicies } from './mesh-policy.ts';

export interface PortBinding {
  project: string;
  service: string;
  host: string;
  port: number;
  /** Compose `80-90:8080`: the last host port to try; the listener takes the first free one from `port` on. */
  portEnd?: number;
  target: number;
  protocol: 'tcp' | 'udp';
  /** What the proxy was built from; a change re-binds (the proxy reads mesh settings once). */
  fingerprint: string;
}

interface Bound extends PortBinding {
  listener: ProxyListener | UdpForwarder;
}

/** One published UDP port's counters, for the metrics collector. */
export interface UdpPortStats {
  project: string;
  service: string;
  port: number;
  stats: UdpForwarderStats;
}

export interface MeshPortsOptions {
  /** The project's gateways' last report, for `cmesh routes` (their route counters and breakers on calls by name). */
  eastWestStats?: (project: string) => GatewayStats | undefined;
  /** The pool the listener balances over (the service's pool seen through one container port). */
  poolFor(project: string, service: string, target: number): UpstreamPool;
  /** The same pool as a UDP forwarder sees it (the replicas' UDP endpoints for that container port). */
  datagramPoolFor(project: string, service: string, target: number): DatagramPool;
  emit(event: DaemonEvent): void;
  log(line: string): void;
  /** Metrics and access-log sinks for every proxy opened (the daemon wires them; tests may leave them out). */
  hooks?: ProxyHooks;
  /** The TLS side of an `x-cmesh.tls` port (daemon/tls-service.ts); without it such a port fails to open. */
  tls?: (project: string, service: string, spec: TlsSpec) => Promise<TlsServing>;
}

export interface ProxyHooks {
  onRequest?(project: string, entry: AccessLogEntry): void;
  /** HTTP/1.x requests, counted without an entry object (mesh/proxy/request-report.ts); HTTP/2 streams use onRequest. */
  countRequest?(project: string, ...request: Parameters<RequestCounter>): void;
  onAttempt?(project: string, stats: AttemptStats): void;
  /** A JSON access-log line of a service with `x-cmesh.access_log: true`. */
  onAccessLog?(project: string, service: string, line: string): void;
}

// `53:53/tcp` and `53:53/udp` are two bindings of one host port.
const bindingId = (b: Pick<PortBinding, 'project' | 'service' | 'host' | 'port' | 'protocol'>): string =>
  `${b.project}/${b.service}@${b.host}:${b.port}${b.protocol === 'udp' ? '/udp' : ''}`;

/** The listeners a project asks for: every port with `published`, TCP through the proxy, UDP through the forwarder. */
export function wantedBindings(spec: ProjectSpec): Map<string, PortBinding & { svc: ServiceSpec }> {
  const out = new Map<string, PortBinding & { svc: ServiceSpec }>();
  for (const svc of Object.values(spec.services)) {
    for (const p of svc.ports) {
      if (p.published === undefined) continue;
      const host = bindAddress(p, svc.mesh);
      // Traffic policy changes apply in place (mesh-policy.ts), never by re-binding.
      const { health: _health, weights: _weights, weight: _weight, lb: _lb, policy: _policy, ...proxyMesh } = svc.mesh;
      const range = p.publishedEnd === undefined ? {} : { portEnd: p.publishedEnd };
      // The forwarder reads only the idle timeout; the balancer behind it follows lb/weights without a re-bind.
      const settings = p.protocol === 'udp' ? { idleMs: svc.mesh.timeouts.idleMs } : { proxyMesh };
      const fingerprint = JSON.stringify({ target: p.target, ...settings, ...range });
      const b = { project: spec.name, service: svc.name, host, port: p.published, ...range, target: p.target, protocol: p.protocol, svc, fingerprint };
      out.set(bindingId(b), b);
    }
  }
  return out;
}

export class MeshPorts {
  readonly #o: MeshPortsOptions;
  readonly #bound = new Map<string, Bound>();
  readonly #policies: MeshPolicies;

  constructor(options: MeshPortsOptions) {
    this.#o = options;
    this.#policies = new MeshPolicies(options.poolFor);
  }

  /**
   * Makes the project's listeners match `spec`: closes stale ones first (a moved port must be free to re-bind), then
   * opens the missing ones. A port that cannot be bound throws CMESH_E_PORT_TAKEN; with `rollback`, the listeners this
   * call opened are closed again so a failed `up` leaves nothing behind.
   */
  async sync(spec: ProjectSpec, options: { rollback: boolean }): Promise<void> {
    const want = wantedBindings(spec);
    this.#policies.update(spec);
    for (const [id, b] of this.#bound) {
      if (b.project === spec.name && want.get(id)?.fingerprint !== b.fingerprint) await this.#close(id);
      else if (b.project === spec.name && !(b.listener instanceof UdpForwarder) && b.listener.proxy.kind === 'http') {
        b.listener.proxy.policy?.update(spec.services[b.service]?.mesh.policy);
      }
    }
    const opened: string[] = [];
    try {
      for (const [id, w] of want) {
        if (this.#bound.has(id)) continue;
        const { listener, port } = await this.#open(w);
        const { svc: _svc, ...binding } = w;
        this.#bound.set(id, { ...binding, port, listener });
        opened.push(id);
        this.#emit({ ...w, port }, 'listening');
      }
    } catch (err) {
      if (options.rollback) for (const id of opened) await this.#close(id);
      throw err;
    }
  }

  /** Opens one listener; a host port range is walked until a port is free (the spec's "any port in the range"). */
  async #open(w: PortBinding & { svc: ServiceSpec }): Promise<{ listener: ProxyListener | UdpForwarder; port: number }> {
    const hooks = this.#o.hooks;
    for (let port = w.port; ; port++) {
      try {
        if (w.protocol === 'udp') {
          const forwarder = new UdpForwarder({ service: w.service, pool: this.#o.datagramPoolFor(w.project, w.service, w.target), idleMs: w.svc.mesh.timeouts.idleMs });
          await forwarder.listen({ host: w.host, port });
          return { listener: forwarder, port };
        }
        const tls = await this.#tls(w);
        const listener = await publishService(
          {
            service: w.service,
            pool: this.#o.poolFor(w.project, w.service, w.target),
            mesh: w.svc.mesh,
            ...(w.svc.mesh.protocol === 'http' ? { policy: this.#policies.listenerPolicy(w.project, w.service, w.target) } : {}),
            log: this.#o.log,
            onAccessLog: (line) => (hooks?.onAccessLog ? hooks.onAccessLog(w.project, w.service, line) : this.#o.log(line)),
            ...(hooks?.onRequest ? { onRequest: (entry: AccessLogEntry) => hooks.onRequest?.(w.project, entry) } : {}),
            ...(hooks?.countRequest ? { countRequest: requestCounter(hooks.countRequest.bind(hooks), w.project) } : {}),
            ...(hooks?.onAttempt ? { onAttempt: (stats: AttemptStats) => hooks.onAttempt?.(w.project, stats) } : {}),
            ...(tls === undefined ? {} : { listener: { tls } }),
          },
          { host: w.host, port },
        );
        return { listener, port };
      } catch (err) {
        const taken = err instanceof CmeshError && err.code === 'CMESH_E_PORT_TAKEN';
        if (!taken || w.portEnd === undefined || port >= w.portEnd) throw err;
      }
    }
  }

  #tls(w: PortBinding & { svc: ServiceSpec }): Promise<TlsServing | undefined> {
    const spec = w.svc.mesh.tls;
    if (spec === undefined) return Promise.resolve(undefined);
    if (this.#o.tls === undefined) throw new CmeshError('CMESH_E_BUG', `${w.service}: x-cmesh.tls asked for, but this daemon has no local CA wired`);
    return this.#o.tls(w.project, w.service, spec);
  }

  /** Stops accepting on every listener of the project (or all), letting in-flight requests finish within the bound. */
  async close(project?: string): Promise<void> {
    const ids = [...this.#bound].filter(([, b]) => project === undefined || b.project === project).map(([id]) => id);
    await Promise.all(ids.map((id) => this.#close(id)));
    if (project !== undefined) this.#policies.forget(project);
  }

  /** `cmesh fault`: run-time faults of a service (undefined clears them). */
  setFaults(project: string, service: string, faults: FaultSpec | undefined) {
    return this.#policies.setFaults(project, service, faults);
  }

  /** The run-time faults in effect, by service (the east-west gateways get them in their table). */
  runtimeFaults(project: string): Record<string, FaultSpec> {
    return this.#policies.runtimeFaults(project);
  }

  /** Every project's circuit breakers, for the metrics collector. */
  breakerStats(): { project: string; breakers: BreakerView[] }[] {
    return this.#policies.projects().map((project) => ({ project, breakers: this.#policies.breakers(project) }));
  }

  /** `cmesh routes`: each published HTTP port's route table with its counters, and the faults in effect. */
  routes(project: string): RoutesView {
    const listeners = [...this.#bound.values()].flatMap((b) => {
      if (b.project !== project || b.listener instanceof UdpForwarder) return [];
      const policy = b.listener.proxy.kind === 'http' ? b.listener.proxy.policy : undefined;
      return policy === undefined ? [] : [{ service: b.service, host: b.host, port: b.port, policy }];
    });
    return withEastWestRoutes(this.#policies.view(project, listeners), this.#o.eastWestStats?.(project));
  }

  /** A replica left its service: every HTTP listener of the project (routes reach other services) drops its pool to it. */
  closeUpstream(project: string, service: string, id: string): void {
    for (const b of this.#bound.values()) {
      if (b.project !== project) continue;
      if (b.listener instanceof UdpForwarder) {
        if (b.service === service) b.listener.closeUpstream(id);
        continue;
      }
      const proxy = b.listener.proxy;
      if (proxy.kind === 'http') void proxy.closeUpstream(id);
    }
  }

  udpStats(): UdpPortStats[] {
    return [...this.#bound.values()].flatMap((b) =>
      b.listener instanceof UdpForwarder ? [{ project: b.project, service: b.service, port: b.port, stats: b.listener.stats() }] : [],
    );
  }

  bindings(project?: string): PortBinding[] {
    return [...this.#bound.values()]
      .filter((b) => project === undefined || b.project === project)
      .map(({ listener: _l, ...b }) => b);
  }

  async #close(id: string): Promise<void> {
    const b = this.#bound.get(id);
    if (!b) return;
    this.#bound.delete(id);
    await b.listener.close();
    this.#emit(b, 'closed');
  }

  #emit(b: PortBinding, action: 'listening' | 'closed'): void {
    this.#o.emit({ type: 'proxy', time: Date.now(), project: b.project, service: b.service, action, address: b.host, port: b.port });
  }
}

/** A listener's RequestCounter: the project bound, every argument passed by name (a rest parameter would allocate). */
function requestCounter(count: NonNullable<ProxyHooks['countRequest']>, project: string): RequestCounter {
  return (service, upstream, method, status, durationMs, route, target, error) => count(project, service, upstream, method, status, durationMs, route, target, error);
}
