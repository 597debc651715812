// The replica table under a ServicePool: membership (upsert, remove, rekey, drain), health verdicts, who is routable,
// and the balancer's member list. ServicePool adds picks, per-port views and the health-check plumbing.

import type { Endpoint } from '../daemon/api/engine.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';
import { replicaId } from '../daemon/api/labels.ts';
import type { HealthProbe, LbStrategy, PortMapping } from '../daemon/api/project.ts';
import { createBalancer, type CreateBalancerOptions } from './balancer/index.ts';
import type { Balancer } from './balancer/types.ts';
import { PassiveHealth, type PassiveTransition } from './health/passive.ts';
import { applyEngineHealth } from './pool-active-health.ts';
import { DEFAULT_MESH, type PoolMesh, type ServicePoolOptions } from './pool-options.ts';
import { isHealthy, routing } from './pool-routing.ts';
import { drained, finishDrain, newEntry, probeless, type ReplicaEntry, type ReplicaInput, replicaHost } from './replica-entry.ts';
import { ReplicaStats } from './replica-stats.ts';

export abstract class ReplicaTable {
  readonly project: string;
  readonly service: string;
  mesh: PoolMesh;
  ports: PortMapping[];
  desired: number;
  protected balancer: Balancer;
  protected readonly passive: PassiveHealth;
  protected readonly replicas = new Map<string, ReplicaEntry>();
  protected routable = new Set<string>();
  protected panic = false;
  /**
   * Bumped by every change of membership, endpoints, ports, drain or balancer (all go through syncMembers): the
   * Upstreams handed out before it (PooledUpstream) stop using their direct references and go by id.
   */
  protected generation = 0;
  protected readonly listeners = new Set<() => void>();
  protected readonly emitFn: (e: DaemonEvent) => void;
  protected readonly now: () => number;
  protected readonly activeChecks: boolean;
  protected readonly panicPercent: number;
  protected readonly upstreamHost: (ep: Endpoint) => string;
  protected readonly balancerOpts: CreateBalancerOptions;

  constructor(opts: ServicePoolOptions) {
    this.project = opts.project;
    this.service = opts.service;
    this.mesh = opts.mesh ?? DEFAULT_MESH;
    this.ports = opts.ports ?? [];
    this.desired = opts.desired ?? 0;
    this.emitFn = opts.emit ?? (() => {});
    this.now = opts.now ?? Date.now;
    this.activeChecks = opts.activeChecks ?? true;
    this.panicPercent = opts.panicThresholdPercent ?? 50;
    this.upstreamHost = opts.upstreamHost ?? replicaHost;
    this.balancerOpts = { ...opts.balancer, rand: opts.rand, now: this.now };
    this.balancer = createBalancer(this.mesh.lb, this.balancerOpts);
    this.passive = new PassiveHealth({ ...opts.passive, now: this.now }, (t) => this.onPassive(t));
    this.passive.setRise(this.activeChecks ? this.mesh.health.rise : 0);
  }

  get strategy(): LbStrategy {
    return this.mesh.lb;
  }

  get healthProbe(): HealthProbe {
    return this.mesh.health;
  }

  /** New service settings: a strategy change swaps the balancer, carrying in-flight counts over. */
  configure(opts: { mesh?: PoolMesh; ports?: PortMapping[]; desired?: number }): void {
    if (opts.ports) this.ports = opts.ports;
    if (opts.desired !== undefined) this.desired = opts.desired;
    if (opts.mesh) {
      const strategyChanged = opts.mesh.lb !== this.mesh.lb;
      this.mesh = opts.mesh;
      this.passive.setRise(this.activeChecks ? this.mesh.health.rise : 0);
      if (strategyChanged) {
        this.balancer = createBalancer(this.mesh.lb, this.balancerOpts);
        this.syncMembers();
        for (const r of this.replicas.values()) for (let i = 0; i < r.inflight; i++) this.balancer.onStart(r.id);
      }
    }
    this.syncMembers();
    this.changed();
  }

  upsert(input: ReplicaInput): void {
    const id = input.id ?? replicaId(this.service, input.replica);
    let r = this.replicas.get(id);
    // A new container behind the same replica number (swap, recreate) has to earn its health again.
    if (r && r.container !== input.container) {
      finishDrain(r);
      this.replicas.delete(id);
      this.passive.forget(id);
      r = undefined;
    }
    if (!r) {
      r = newEntry(id, input, new ReplicaStats(this.now));
      this.replicas.set(id, r);
    }
    // A stopped process forfeits its health; when it runs again it rises like a new one. So does a running one that
    // lost every endpoint (its network link went away: `docker network disconnect`): when it is back, it rises first.
    if (r.state === 'running' && (input.state !== 'running' || (r.endpoints.length > 0 && input.endpoints.length === 0))) {
      r.active = 'unknown';
      r.everHealthy = false;
    }
    r.state = input.state;
    r.endpoints = input.endpoints;
    r.weightOverride = input.weight;
    r.containerHealth = input.health ?? r.containerHealth;
    if (probeless(r)) this.engineHealth(r);
    this.syncMembers();
    this.changed();
  }

  remove(idOrReplica: string | number): void {
    const id = typeof idOrReplica === 'number' ? replicaId(this.service, idOrReplica) : idOrReplica;
    const r = this.replicas.get(id);
    if (!r) return;
    this.replicas.delete(id);
    finishDrain(r);
    this.syncMembers();
    this.changed();
  }

  /**
   * Moves a replica to another pool id keeping its health, stats and in-flight count (a rollout's new container taking
   * over the replica's id once the old one is gone), so it never has to earn its health twice.
   */
  rekey(from: string, to: string): void {
    const r = this.replicas.get(from);
    if (!r || from === to) return;
    const displaced = this.replicas.get(to);
    if (displaced) finishDrain(displaced);
    this.replicas.delete(from);
    this.passive.forget(from);
    r.id = to;
    this.replicas.set(to, r);
    this.syncMembers();
    this.changed();
  }

  replicaIds(): string[] {
    return [...this.replicas.keys()];
  }

  setDraining(id: string, draining: boolean): void {
    const r = this.replicas.get(id);
    if (!r || r.draining === draining) return;
    r.draining = draining;
    if (!draining) finishDrain(r);
    this.syncMembers();
    this.recompute();
  }

  /** Takes the replica out of picks now; resolves when its in-flight requests are done or after graceMs. */
  drain(id: string, opts: { graceMs: number }): Promise<void> {
    const r = this.replicas.get(id);
    if (!r) return Promise.resolve();
    this.setDraining(id, true);
    return drained(r, opts.graceMs);
  }

  protected isHealthy(r: ReplicaEntry): boolean {
    return isHealthy(r, this.ports, this.activeChecks, this.passive.state(r.id));
  }

  protected engineHealth(r: ReplicaEntry): void {
    const verdict = applyEngineHealth(r);
    if (verdict) this.emit({ type: 'health', service: this.service, replica: r.replica, source: 'mesh', ...verdict });
  }

  /** Recomputes who may be picked (healthy, or every warmed-up serving replica in panic) and tells the balancer. */
  protected recompute(): void {
    // Due ejection expiries first, so the reads below all see the same passive state.
    this.passive.tick();
    const { panic, routable } = routing(this.replicas.values(), this.ports, this.activeChecks, this.passive, this.panicPercent);
    this.panic = panic;
    this.routable = routable;
    for (const id of this.replicas.keys()) this.balancer.setHealthy(id, this.routable.has(id));
  }

  protected syncMembers(): void {
    this.generation++;
    const list = [...this.replicas.values()].sort((a, b) => a.replica - b.replica);
    this.balancer.setMembers(list.map((r) => ({ id: r.id, weight: this.weightOf(r) })));
    // Passive's 50 % cap is over the replicas meant to serve, not over ones already leaving.
    this.passive.setMembers(list.filter((r) => !r.draining).map((r) => r.id));
  }

  protected weightOf(r: ReplicaEntry): number {
    return r.weightOverride ?? this.mesh.weights[r.replica - 1] ?? this.mesh.weight ?? 1;
  }

  protected onPassive(t: PassiveTransition): void {
    const r = this.replicas.get(t.id);
    if (r && t.state !== 'probing') {
      this.emit({ type: 'ejection', service: this.service, replica: r.replica, ejected: t.ejected, reason: t.reason });
    }
    this.recompute();
  }

  protected changed(): void {
    this.recompute();
    for (const fn of this.listeners) fn();
  }

  protected emit(e: DistributiveOmit<DaemonEvent, 'time' | 'project'>): void {
    this.emitFn({ ...e, time: this.now(), project: this.project } as DaemonEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
