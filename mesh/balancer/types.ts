// The balancer contract: small pure classes, told about health from outside (STYLE habit 7), never probing themselves.

/** A replica as balancers see it: an id and a weight. Endpoints live in the registry, not here. */
export interface BalancerMember {
  /** Stable id, e.g. `web#2`. */
  id: string;
  weight: number;
}

/** What a balancer may look at to pick: enough for sticky hashing, nothing else of the request. */
export interface PickContext {
  /** Hash key already extracted by the proxy (header, cookie or client IP), when lb = ring-hash. */
  hashKey?: string;
  /** Replica ids already tried for this request; a retry must go elsewhere when possible. */
  exclude?: ReadonlySet<string>;
}

/**
 * A member's own state, for the start/result calls of a request that picked it: the pool keeps it beside the Upstream
 * it hands out, so each request's start and result need no lookup by id. Valid until the next setMembers.
 */
export interface MemberHandle {
  readonly id: string;
}

export interface Balancer {
  readonly strategy: string;
  /** Replaces the member set, keeping per-member state (health, EWMA, in-flight) for ids that stay. */
  setMembers(members: BalancerMember[]): void;
  /** Health from active checks / passive ejection; unhealthy members are skipped unless all are (panic is decided by the caller). */
  setHealthy(id: string, healthy: boolean): void;
  /** Returns a member id, or undefined when no member is available. */
  pick(ctx?: PickContext): string | undefined;
  /** Called when a request is sent to `id` (in-flight accounting for p2c / EWMA). */
  onStart(id: string): void;
  /** Called when the request ends: latency in ms and whether it succeeded (no connect error / 5xx). */
  onResult(id: string, latencyMs: number, ok: boolean): void;
  /** The member's handle for startMember/resultMember, or undefined when `id` is not a member. */
  handle(id: string): MemberHandle | undefined;
  /** onStart of a handle from this balancer's current member set. */
  startMember(h: MemberHandle): void;
  /** onResult of a handle from this balancer's current member set. */
  resultMember(h: MemberHandle, latencyMs: number, ok: boolean): void;
}
