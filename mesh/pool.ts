// ServicePool: one service's replicas behind the UpstreamPool contract — balancer, health, ejection, panic, drain.
// The replica table itself (membership, health verdicts, routing) is ReplicaTable's; this adds what callers use.

import type { Endpoint } from '../daemon/api/engine.ts';
import type { ServiceTableRow } from '../daemon/api/service-table.ts';
import type { PickContext } from './balancer/types.ts';
import type { ProbeTarget } from './health/active.ts';
import { markActive, probeTargets } from './pool-active-health.ts';
import { type DatagramSource, datagramView } from './pool-datagrams.ts';
import type { ServicePoolOptions } from './pool-options.ts';
import { ReplicaTable } from './pool-replicas.ts';
import { buildServiceRow } from './pool-row.ts';
import { PooledUpstream } from './pool-upstream.ts';
import { endpointFor, finishDrain, type ReplicaEntry } from './replica-entry.ts';
import type { DatagramPool } from './udp/forwarder.ts';
import type { AttemptOutcome, PoolSnapshot, Upstream, UpstreamPool } from './upstream-pool.ts';

export type { ReplicaInput } from './replica-entry.ts';

type CachedUpstream = { generation: number; up: PooledUpstream | undefined };

export class ServicePool extends ReplicaTable implements UpstreamPool {
  private readonly views = new Map<number, UpstreamPool>();
  private readonly datagramViews = new Map<number, DatagramPool>();
  private readonly datagramSource: DatagramSource;
  /** The Upstream each replica was last picked as, by container port, valid for its generation (endpoints, ports). */
  private readonly upstreams = new Map<number, Map<string, CachedUpstream>>();
  /** The same for the primary port, in a field: the hot path's pick hashes no number key. */
  private readonly primaryUpstreams = new Map<string, CachedUpstream>();

  constructor(opts: ServicePoolOptions) {
    super(opts);
    this.datagramSource = {
      service: this.service,
      pickEntry: (ctx) => this.pickEntry(ctx),
      routableEntry: (id) => (this.routable.has(id) ? this.replicas.get(id) : undefined),
      balancerResult: (id, ms, ok) => {
        if (this.replicas.has(id)) this.balancer.onResult(id, ms, ok);
      },
      upstreamHost: (ep) => this.upstreamHost(ep),
    };
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
        onStart: (up) => this.onStart(up),
        onResult: (up, ms, outcome) => this.onResult(up, ms, outcome),
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

  onStart(up: Upstream): void {
    // This pool's own upstream of the current generation carries its replica's entry and balancer member.
    if (this.#current(up)) {
      up.entry.inflight++;
      this.balancer.startMember(up.member);
      return;
    }
    const r = this.replicas.get(up.id);
    if (!r) return;
    r.inflight++;
    this.balancer.onStart(up.id);
  }

  onResult(up: Upstream, latencyMs: number, outcome: AttemptOutcome): void {
    const ok = outcome === 'ok';
    if (this.#current(up)) {
      const r = up.entry;
      if (r.inflight > 0) r.inflight--;
      this.balancer.resultMember(up.member, latencyMs, ok);
      r.stats.record(latencyMs, ok);
      if (up.passive !== undefined) this.passive.recordMember(up.id, up.passive, outcome);
      this.#drained(r);
      return;
    }
    const r = this.replicas.get(up.id);
    if (!r) return;
    if (r.inflight > 0) r.inflight--;
    this.balancer.onResult(up.id, latencyMs, ok);
    r.stats.record(latencyMs, ok);
    this.passive.record(up.id, outcome);
    this.#drained(r);
  }

  /**
   * Is `up` this pool's own PooledUpstream of the current generation? Only a PooledUpstream has `owner`, so comparing
   * it stands for `instanceof` — which cost ~80 instructions a call here (FunctionPrototypeHasInstance + InstanceOf,
   * bench/RESULTS.md "cpugap"), two calls a request.
   */
  #current(up: Upstream): up is PooledUpstream {
    return (up as Partial<PooledUpstream>).owner === this && (up as PooledUpstream).generation === this.generation;
  }

  // finishDrain's splice makes an array even when nobody waits: only call it when someone does.
  #drained(r: ReplicaEntry): void {
    if (r.inflight === 0 && r.drainWaiters.length > 0) finishDrain(r);
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
    this.passive.tick();
    if (this.routable.size === 0) return undefined;
    const id = this.balancer.pick(ctx);
    if (id === undefined) return undefined;
    // Every request picks: the Upstream is made once per replica, port and generation, not per pick.
    let byId = containerPort === undefined ? this.primaryUpstreams : this.upstreams.get(containerPort);
    if (byId === undefined) {
      byId = new Map();
      this.upstreams.set(containerPort!, byId);
    }
    const hit = byId.get(id);
    if (hit !== undefined && hit.generation === this.generation) return hit.up;
    const up = this.upstreamOf(id, containerPort);
    byId.set(id, { generation: this.generation, up });
    return up;
  }

  private upstreamOf(id: string, containerPort: number | undefined): PooledUpstream | undefined {
    const r = this.replicas.get(id);
    const member = this.balancer.handle(id);
    if (r === undefined || member === undefined) return undefined;
    const ep = this.endpointFor(r, containerPort);
    if (ep === undefined) return undefined;
    return new PooledUpstream(id, this.upstreamHost(ep), ep.hostPort, this, this.generation, r, member, this.passive.handle(id));
  }

  private pickEntry(ctx?: PickContext): ReplicaEntry | undefined {
    this.passive.tick();
    if (this.routable.size === 0) return undefined;
    const id = this.balancer.pick(ctx);
    return id === undefined ? undefined : this.replicas.get(id);
  }

  private endpointFor(r: ReplicaEntry, containerPort?: number): Endpoint | undefined {
    return endpointFor(r, this.ports, containerPort);
  }
}
