// Peak-EWMA (Finagle, linkerd): cost = latency EWMA × (in-flight + 1); quick to react to spikes, slow to forgive.

import { type BalancerOptions, MemberSetBalancer, type MemberState } from './member-set.ts';
import { otherIndex } from './p2c.ts';
import type { PickContext } from './types.ts';

export interface EwmaOptions extends BalancerOptions {
  /** Time constant of the decay; older latency weighs e^(-Δt/τ). */
  decayMs?: number;
  /** Latency assumed for a member before its first answer, so newcomers are tried but not flooded. */
  defaultRttMs?: number;
}

// A member that has requests out but has never answered might be hung: make it the last choice.
const PENALTY = 1e9;

export class EwmaBalancer extends MemberSetBalancer {
  readonly strategy = 'ewma';
  private readonly tau: number;
  private readonly defaultRtt: number;

  constructor(opts: EwmaOptions = {}) {
    super(opts);
    this.tau = opts.decayMs ?? 10_000;
    this.defaultRtt = opts.defaultRttMs ?? 30;
  }

  pick(ctx?: PickContext): string | undefined {
    const c = this.candidates(ctx);
    if (c.length === 0) return undefined;
    // Sampling two (not scanning all) avoids every pick herding onto the one member with the stalest low cost.
    if (c.length === 1) return c[0]!.id;
    const i = this.randomIndex(c.length);
    const a = c[i]!;
    const b = c[otherIndex(i, this.randomIndex(c.length - 1))]!;
    const now = this.now();
    const ca = this.cost(a, now);
    const cb = this.cost(b, now);
    if (ca !== cb) return ca < cb ? a.id : b.id;
    return this.rand() < 0.5 ? a.id : b.id;
  }

  /** The load score of a member right now (exposed for tests and the service table). */
  score(id: string): number | undefined {
    const m = this.byId.get(id);
    return m ? this.cost(m, this.now()) : undefined;
  }

  private cost(m: MemberState, now: number): number {
    if (m.samples === 0) return m.inflight > 0 ? PENALTY + m.inflight : this.defaultRtt;
    // Idle time decays the estimate toward zero, so a member that was slow once gets probed again eventually.
    const decayed = m.cost * Math.exp(-Math.max(0, now - m.stamp) / this.tau);
    const w = m.weight > 0 ? m.weight : 1;
    return (decayed * (m.inflight + 1)) / w;
  }

  protected override observe(m: MemberState, latencyMs: number, ok: boolean): void {
    const now = this.now();
    // A fast failure must not look like a fast success: count it as at least twice the current estimate.
    const rtt = ok ? Math.max(0, latencyMs) : Math.max(latencyMs, 2 * Math.max(m.cost, this.defaultRtt));
    if (m.samples === 0) {
      m.cost = rtt;
    } else {
      const w = Math.exp(-Math.max(0, now - m.stamp) / this.tau);
      // Peak sensitivity: a slower sample replaces the estimate at once, faster ones blend in with time.
      m.cost = rtt > m.cost ? rtt : m.cost * w + rtt * (1 - w);
    }
    m.stamp = now;
    m.samples++;
  }
}
