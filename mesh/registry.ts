// The service table: every project's services and their replica pools, keyed by project/service.

import type { ContainerHealth, ContainerState, Endpoint } from '../daemon/api/engine.ts';
import { parseReplicaId, replicaId } from '../daemon/api/labels.ts';
import type { ServiceSpec } from '../daemon/api/project.ts';
import { startHealthChecks } from './pool-health.ts';
import { ServicePool } from './pool.ts';
import type { ServicePoolOptions } from './pool-options.ts';
import type { ServiceTableRow } from '../daemon/api/service-table.ts';

export interface UpsertReplica {
  project: string;
  service: string;
  replica: number;
  container: string;
  endpoints: Endpoint[];
  weight?: number;
  state: ContainerState;
  health?: ContainerHealth;
}

/** A replica by its parts, or the string form `project/service#replica`. */
export type ReplicaRef = { project: string; service: string; replica: number } | string;

/** The service fields the table needs; a full ServiceSpec fits. */
export type ServiceConfig = Pick<ServiceSpec, 'name' | 'replicas' | 'ports' | 'mesh'>;

export type RegistryOptions = Pick<
  ServicePoolOptions,
  'emit' | 'now' | 'rand' | 'activeChecks' | 'passive' | 'panicThresholdPercent' | 'balancer' | 'upstreamHost'
>;

export function parseReplicaRef(ref: ReplicaRef): { project: string; service: string; replica: number } {
  if (typeof ref !== 'string') return ref;
  const slash = ref.indexOf('/');
  const id = slash > 0 ? parseReplicaId(ref.slice(slash + 1)) : undefined;
  if (!id) throw new Error(`bad replica reference ${JSON.stringify(ref)}: want project/service#N`);
  return { project: ref.slice(0, slash), ...id };
}

const key = (project: string, service: string) => `${project}/${service}`;

export class Registry {
  private readonly pools = new Map<string, ServicePool>();
  private readonly healthSignals: AbortSignal[] = [];
  /**
   * Per pool, one child controller per health signal: the pool's checker hangs on its child, which ends with the pool
   * (removeService) or with the parent. So the parent, which lives as long as the daemon, carries one listener of ours
   * however many pools come and go; checkers tied to it directly kept theirs (and their dead pool) after `down`.
   */
  private readonly healthRuns = new Map<string, { parent: AbortSignal; run: AbortController }[]>();

  constructor(private readonly opts: RegistryOptions = {}) {}

  /**
   * The pool for a service, created empty on first use so the proxy can hold it before any replica exists.
   */
  pool(project: string, service: string): ServicePool {
    const k = key(project, service);
    let p = this.pools.get(k);
    if (!p) {
      p = new ServicePool({ ...this.opts, project, service });
      this.pools.set(k, p);
      for (const signal of this.healthSignals) if (!signal.aborted) this.runHealthChecks(k, p, signal);
    }
    return p;
  }

  /** Existing pools only (no creation), optionally one project's. */
  list(project?: string): ServicePool[] {
    return [...this.pools.values()].filter((p) => project === undefined || p.project === project);
  }

  /** Applies a service's config: strategy, weights, health probe, published ports, desired replicas. */
  configureService(project: string, spec: ServiceConfig): ServicePool {
    const p = this.pool(project, spec.name);
    p.configure({ mesh: spec.mesh, ports: spec.ports, desired: spec.replicas });
    return p;
  }

  upsertReplica(r: UpsertReplica): void {
    this.pool(r.project, r.service).upsert(r);
  }

  removeReplica(ref: ReplicaRef): void {
    const { project, service, replica } = parseReplicaRef(ref);
    this.pools.get(key(project, service))?.remove(replica);
  }

  setDraining(ref: ReplicaRef, draining: boolean): void {
    const { project, service, replica } = parseReplicaRef(ref);
    this.pools.get(key(project, service))?.setDraining(replicaId(service, replica), draining);
  }

  /** Stops new picks to the replica at once; resolves when its in-flight requests end or after graceMs. */
  drain(ref: ReplicaRef, opts: { graceMs: number }): Promise<void> {
    const { project, service, replica } = parseReplicaRef(ref);
    return this.pools.get(key(project, service))?.drain(replicaId(service, replica), opts) ?? Promise.resolve();
  }

  removeService(project: string, service: string): void {
    const p = this.pools.get(key(project, service));
    if (!p) return;
    // Removing replicas first releases drain waiters and stops their probes through the pool's listeners.
    for (const id of p.replicaIds()) p.remove(id);
    this.pools.delete(key(project, service));
    for (const { run } of this.healthRuns.get(key(project, service)) ?? []) run.abort();
    this.healthRuns.delete(key(project, service));
  }

  removeProject(project: string): void {
    for (const p of this.list(project)) this.removeService(project, p.service);
  }

  snapshot(filter: { project?: string } = {}): ServiceTableRow[] {
    return this.list(filter.project)
      .sort((a, b) => a.project.localeCompare(b.project) || a.service.localeCompare(b.service))
      .map((p) => p.row());
  }

  /** Runs active health checks for every pool, including pools created later, until `signal` aborts. */
  startHealthChecks(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.healthSignals.push(signal);
    signal.addEventListener(
      'abort',
      () => {
        this.healthSignals.splice(this.healthSignals.indexOf(signal), 1);
        for (const [k, runs] of this.healthRuns) {
          for (const r of runs) if (r.parent === signal) r.run.abort();
          this.healthRuns.set(k, runs.filter((r) => r.parent !== signal));
        }
      },
      { once: true },
    );
    for (const [k, p] of this.pools) this.runHealthChecks(k, p, signal);
  }

  private runHealthChecks(k: string, p: ServicePool, parent: AbortSignal): void {
    const run = new AbortController();
    this.healthRuns.set(k, [...(this.healthRuns.get(k) ?? []), { parent, run }]);
    startHealthChecks(p, run.signal);
  }
}

