// Shared member bookkeeping for every balancer: health, weight and in-flight per id, kept across setMembers.

import { fastRandom } from './fast-random.ts';
import type { Balancer, BalancerMember, MemberHandle, PickContext } from './types.ts';

/** Per-member state; the optional fields belong to the strategies that need them. */
export interface MemberState {
  id: string;
  weight: number;
  healthy: boolean;
  inflight: number;
  /** Smooth weighted round-robin's running score. */
  current: number;
  /** Peak-EWMA latency in ms (0 = no data yet) and when it was last updated. */
  cost: number;
  stamp: number;
  samples: number;
}

/** Options every strategy understands; tests inject `rand` and `now` to be deterministic. */
export interface BalancerOptions {
  rand?: () => number;
  now?: () => number;
}

// A weight of 0, negative or NaN would make a member unpickable in weighted strategies by accident; 0 is explicit.
function cleanWeight(w: number): number {
  return Number.isFinite(w) && w > 0 ? w : 0;
}

const isHealthy = (m: MemberState): boolean => m.healthy;
const always = (): boolean => true;

export abstract class MemberSetBalancer implements Balancer {
  abstract readonly strategy: string;
  protected members: MemberState[] = [];
  protected byId = new Map<string, MemberState>();
  protected readonly rand: () => number;
  protected readonly now: () => number;
  /** The members a pick without exclusions may return, made when membership or health changes, not per pick. */
  #usable: MemberState[] | undefined;

  constructor(opts: BalancerOptions = {}) {
    this.rand = opts.rand ?? fastRandom;
    this.now = opts.now ?? Date.now;
  }

  setMembers(members: BalancerMember[]): void {
    const next = new Map<string, MemberState>();
    const list: MemberState[] = [];
    for (const m of members) {
      if (next.has(m.id)) continue;
      const prev = this.byId.get(m.id);
      const state: MemberState = prev ?? {
        id: m.id,
        weight: 0,
        healthy: true,
        inflight: 0,
        current: 0,
        cost: 0,
        stamp: this.now(),
        samples: 0,
      };
      state.weight = cleanWeight(m.weight);
      next.set(m.id, state);
      list.push(state);
    }
    this.byId = next;
    this.members = list;
    this.#usable = undefined;
    this.membersChanged();
  }

  /** Hook for strategies that precompute over the member list (ring-hash). */
  protected membersChanged(): void {}

  setHealthy(id: string, healthy: boolean): void {
    const m = this.byId.get(id);
    if (m === undefined || m.healthy === healthy) return;
    m.healthy = healthy;
    this.#usable = undefined;
  }

  onStart(id: string): void {
    const m = this.byId.get(id);
    if (m) m.inflight++;
  }

  onResult(id: string, latencyMs: number, ok: boolean): void {
    const m = this.byId.get(id);
    if (m) this.resultMember(m, latencyMs, ok);
  }

  handle(id: string): MemberHandle | undefined {
    return this.byId.get(id);
  }

  // The handles this class gives out are its MemberStates (the caller only holds them between a pick and its result).
  startMember(h: MemberHandle): void {
    (h as MemberState).inflight++;
  }

  resultMember(h: MemberHandle, latencyMs: number, ok: boolean): void {
    const m = h as MemberState;
    if (m.inflight > 0) m.inflight--;
    this.observe(m, latencyMs, ok);
  }

  /** Hook for latency-aware strategies. */
  protected observe(_m: MemberState, _latencyMs: number, _ok: boolean): void {}

  /**
   * Whether members may be picked at all: healthy ones, or every member when none is healthy (the contract's
   * last resort; the pool decides real panic and normally never lets it get here).
   */
  protected usableHealth(): (m: MemberState) => boolean {
    return this.#anyHealthy() ? isHealthy : always;
  }

  #anyHealthy(): boolean {
    for (const m of this.members) if (m.healthy) return true;
    return false;
  }

  /**
   * Members a pick may return: usable and not excluded by an earlier attempt of the same request. Without exclusions
   * (nearly every pick) the list made at the last membership or health change; callers only read it. It used to be
   * a scratch array emptied with `length = 0` per pick, which dropped its backing store: ~200 bytes of garbage each.
   */
  protected candidates(ctx?: PickContext): readonly MemberState[] {
    this.#usable ??= this.members.filter(this.usableHealth());
    const exclude = ctx?.exclude;
    if (exclude === undefined || exclude.size === 0) return this.#usable;
    return this.#usable.filter((m) => !exclude.has(m.id));
  }

  /** Uniform integer in [0, n). */
  protected randomIndex(n: number): number {
    return Math.min(n - 1, Math.floor(this.rand() * n));
  }

  abstract pick(ctx?: PickContext): string | undefined;
}
