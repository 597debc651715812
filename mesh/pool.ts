// ServicePool: one service's replicas behind the UpstreamPool contract — balancer, health, ejection, panic, drain.

import type { Endpoint } from '../daemon/api/engine.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';
import { replicaId } from '../daemon/api/labels.ts';
import type { HealthProbe, LbStrategy, PortMapping } from '../daemon/api/project.ts';
import { createBalancer, type CreateBalancerOptions } from './balancer/index.ts';
import type { Balancer, PickContext } from './balancer/types.ts';
import type { ProbeTarget } from './health/active.ts';
import { PassiveHealth, type PassiveTransition } from './health/passive.ts';
import { applyEngineHealth, markActive, probeTargets } from './pool-active-health.ts';
import { type DatagramSource, datagramView } from './pool-datagrams.ts';
import { DEFAULT_MESH, type PoolMesh, type ServicePoolOptions } from './pool-options.ts';
import { buildServiceRow } from './pool-row.ts';
import { isHealthy, routing } from './pool-routing.ts';
import type { ServiceTableRow } from '../daemon/api/service-table.ts';
import { drained, endpointFor, finishDrain, loopback, newEntry, probeless, type ReplicaEntry, type ReplicaInput } from './replica-entry.ts';
import { ReplicaStats } from './replica-stats.ts';
import type { DatagramPool } from './udp/forwarder.ts';
import type { AttemptOutcome, PoolSnapshot, Upstream, UpstreamPool } from './upstream-pool.ts';

export type { ReplicaInput } from './replica-entry.ts';

export class ServicePool implements UpstreamPool {
  readonly project: string;
  readonly service: string;
  mesh: PoolMesh;
  ports: PortMapping[];
  desired: number;
  private balancer: Balancer;
  private readonly passive: PassiveHealth;
  private readonly replicas = new Map<string, ReplicaEntry>();
  private routable = new Set<string>();
  private panic = false;
  private readonly listeners = new Set<() => void>();
  private readonly views = new Map<number, UpstreamPool>();
  private readonly datagramViews = new Map<number, DatagramPool>();
  private readonly emitFn: (e: DaemonEvent) => void;
  private readonly now: () => number;
  private readonly activeChecks: boolean;
  private readonly panicPercent: number;
  private readonly upstreamHost: (host: string) => string;
  private readonly balancerOpts: CreateBalancerOptions;
  private readonly datagramSource: DatagramSource;

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
    this.upstreamHost = opts.upstreamHost ?? loopback;
    this.balancerOpts = { ...opts.balancer, rand: opts.rand, now: this.now };
    this.balancer = createBalancer(this.mesh.lb, this.balancerOpts);
    this.passive = new PassiveHealth({ ...opts.passive, now: this.now }, (t) => this.onPassive(t));
    this.passive.setRise(this.activeChecks ? this.mesh.health.rise : 0);
    this.datagramSource = {
      service: this.service,
      pickEntry: (ctx) => this.pickEntry(ctx),
      routableEntry: (id) => (this.routable.has(id) ? this.replicas.get(id) : undefined),
      balancerResult: (id, ms, ok) => {
        if (this.replicas.has(id)) this.balancer.onResult(id, ms, ok);
      },
      upstreamHost: (host) => this.upstreamHost(host),
    };
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
    if (r.state === 'running' && input.state !== 'running') {
      // A stopped process forfeits its health; when it runs again it rises like a new one.
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

  pick(ctx?: PickContext): Upstream | undefined {
    return this.pickFor(undefined, ctx);
  }

  /** The same pool seen through one container port, for services that publish several. */
  forPort(containerPort: number): UpstreamPool {
    let v = this.views.get(containerPort);
    if (!v) {
      v = {
        service: this.service,
        pick: (ctx) => this.pickFor(containerPort, ctx),
        onStart: (id) => this.onStart(id),
        onResult: (id, ms, outcome) => this.onResult(id, ms, outcome),
        snapshot: () => this.snapshot(),
      };
      this.views.set(containerPort, v);
    }
    return v;
  }

  /** The pool seen by a UDP forwarder for one container port (see datagramView). */
  forDatagrams(containerPort: number): DatagramPool {
    let v = this.datagramViews.get(containerPort);
    if (!v) {
      v = datagramView(this.datagramSource, containerPort);
      this.datagramViews.set(containerPort, v);
    }
    return v;
  }

  onStart(id: string): void {
    const r = this.replicas.get(id);
    if (!r) return;
    r.inflight++;
    this.balancer.onStart(id);
  }

  onResult(id: string, latencyMs: number, outcome: AttemptOutcome): void {
    const r = this.replicas.get(id);
    if (!r) return;
    if (r.inflight > 0) r.inflight--;
    const ok = outcome === 'ok';
    this.balancer.onResult(id, latencyMs, ok);
    r.stats.record(latencyMs, ok);
    this.passive.record(id, outcome);
    if (r.inflight === 0) finishDrain(r);
  }

  snapshot(): PoolSnapshot {
    this.passive.tick();
    let healthy = 0;
    let draining = 0;
    for (const r of this.replicas.values()) {
      if (r.draining) draining++;
      else if (this.isHealthy(r)) healthy++;
    }
    return { total: this.replicas.size, healthy, draining, panic: this.panic };
  }

  row(): ServiceTableRow {
    this.passive.tick();
    return buildServiceRow(this, [...this.replicas.values()], {
      endpointFor: (r) => this.endpointFor(r),
      passive: (id) => this.passive.info(id),
      routable: (id) => this.routable.has(id),
      healthy: (r) => this.isHealthy(r),
      weight: (r) => this.weightOf(r),
      panic: this.panic,
    });
  }

  // ── health plumbing (startHealthChecks) ─────────────────────────────────────────────────────────────

  probeTargets(): ProbeTarget[] {
    return probeTargets(this.replicas.values(), this.ports, this.mesh.health.port, this.upstreamHost);
  }

  /** Called whenever the probe targets or settings may have changed; returns an unsubscribe. */
  onTargetsChanged(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  setActiveHealth(id: string, healthy: boolean, reason: string): void {
    const r = this.replicas.get(id);
    if (!r) return;
    markActive(r, healthy, reason);
    this.emit({ type: 'health', service: this.service, replica: r.replica, source: 'mesh', healthy, reason });
    this.recompute();
  }

  onProbe(id: string, ok: boolean, reason: string): void {
    const r = this.replicas.get(id);
    if (!r) return;
    r.activeReason = reason;
    this.passive.onProbe(id, ok);
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────────────

  private pickFor(containerPort: number | undefined, ctx?: PickContext): Upstream | undefined {
    const r = this.pickEntry(ctx);
    if (!r) return undefined;
    const ep = this.endpointFor(r, containerPort);
    return ep ? { id: r.id, host: this.upstreamHost(ep.host), port: ep.hostPort } : undefined;
  }

  private pickEntry(ctx?: PickContext): ReplicaEntry | undefined {
    this.passive.tick();
    if (this.routable.size === 0) return undefined;
    const id = this.balancer.pick(ctx);
    return id === undefined ? undefined : this.replicas.get(id);
  }

  private isHealthy(r: ReplicaEntry): boolean {
    return isHealthy(r, this.ports, this.activeChecks, this.passive.state(r.id));
  }

  private engineHealth(r: ReplicaEntry): void {
    const verdict = applyEngineHealth(r);
    if (verdict) this.emit({ type: 'health', service: this.service, replica: r.replica, source: 'mesh', ...verdict });
  }

  /** Recomputes who may be picked (healthy, or every warmed-up serving replica in panic) and tells the balancer. */
  private recompute(): void {
    // Due ejection expiries first, so the reads below all see the same passive state.
    this.passive.tick();
    const { panic, routable } = routing(this.replicas.values(), this.ports, this.activeChecks, this.passive, this.panicPercent);
    this.panic = panic;
    this.routable = routable;
    for (const id of this.replicas.keys()) this.balancer.setHealthy(id, this.routable.has(id));
  }

  private syncMembers(): void {
    const list = [...this.replicas.values()].sort((a, b) => a.replica - b.replica);
    this.balancer.setMembers(list.map((r) => ({ id: r.id, weight: this.weightOf(r) })));
    // Passive's 50 % cap is over the replicas meant to serve, not over ones already leaving.
    this.passive.setMembers(list.filter((r) => !r.draining).map((r) => r.id));
  }

  private weightOf(r: ReplicaEntry): number {
    return r.weightOverride ?? this.mesh.weights[r.replica - 1] ?? this.mesh.weight ?? 1;
  }

  private endpointFor(r: ReplicaEntry, containerPort?: number): Endpoint | undefined {
    return endpointFor(r, this.ports, containerPort);
  }

  private onPassive(t: PassiveTransition): void {
    const r = this.replicas.get(t.id);
    if (r && t.state !== 'probing') {
      this.emit({ type: 'ejection', service: this.service, replica: r.replica, ejected: t.ejected, reason: t.reason });
    }
    this.recompute();
  }

  private changed(): void {
    this.recompute();
    for (const fn of this.listeners) fn();
  }

  private emit(e: DistributiveOmit<DaemonEvent, 'time' | 'project'>): void {
    this.emitFn({ ...e, time: this.now(), project: this.project } as DaemonEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
