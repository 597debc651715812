// Policy state shared by every listener of one project in this process: per-service rate limiters, circuit breakers
// and fault injectors. An `up` updates them in place (buckets and counters carry over when a spec is unchanged);
// `cmesh fault` overrides a service's faults until cleared.

import type { FaultSpec, TrafficPolicy } from '../../daemon/api/traffic-policy.ts';
import { CircuitBreaker } from './breaker.ts';
import { FaultInjector } from './faults.ts';
import { RateLimiter } from './rate-limit.ts';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class ProjectPolicyState {
  readonly limiters = new Map<string, RateLimiter>();
  readonly breakers = new Map<string, CircuitBreaker>();
  readonly faults = new Map<string, FaultInjector>();
  /** Services whose breaker has limits (others are not counted: nothing would ever be refused). */
  readonly limited = new Set<string>();
  /** Bumped by every change to the maps above: a listener re-checks whether its service is plain only then. */
  generation = 0;
  /** Faults from the file, and the run-time overrides of `cmesh fault` (which win until cleared). */
  readonly #fileFaults = new Map<string, FaultSpec>();
  readonly #runtimeFaults = new Map<string, FaultSpec>();
  readonly #rand: () => number;

  constructor(rand: () => number = Math.random) {
    this.#rand = rand;
  }

  /** Applies every service's policy from the project spec. */
  update(services: Record<string, { policy?: TrafficPolicy }>): void {
    this.generation++;
    for (const [name, s] of Object.entries(services)) {
      const p = s.policy;
      const rl = p?.rateLimit;
      const had = this.limiters.get(name);
      if (rl === undefined) this.limiters.delete(name);
      else if (had === undefined || !same(had.spec, rl)) this.limiters.set(name, new RateLimiter(rl));
      const breaker = this.breakers.get(name);
      if (breaker === undefined) this.breakers.set(name, new CircuitBreaker(p?.circuitBreaker));
      else breaker.update(p?.circuitBreaker);
      if (p?.circuitBreaker === undefined) this.limited.delete(name);
      else this.limited.add(name);
      if (p?.faults === undefined) this.#fileFaults.delete(name);
      else this.#fileFaults.set(name, p.faults);
      this.#applyFaults(name);
    }
    for (const name of [...this.breakers.keys()]) {
      if (name in services) continue;
      this.breakers.delete(name);
      this.limited.delete(name);
      this.limiters.delete(name);
      this.faults.delete(name);
      this.#fileFaults.delete(name);
      this.#runtimeFaults.delete(name);
    }
  }

  /** `cmesh fault`: undefined clears the override (the file's faults, if any, apply again). */
  setRuntimeFaults(service: string, spec: FaultSpec | undefined): void {
    this.generation++;
    if (spec === undefined) this.#runtimeFaults.delete(service);
    else this.#runtimeFaults.set(service, spec);
    this.#applyFaults(service);
  }

  runtimeFaults(service: string): FaultSpec | undefined {
    return this.#runtimeFaults.get(service);
  }

  breaker(service: string): CircuitBreaker {
    let b = this.breakers.get(service);
    if (b === undefined) {
      b = new CircuitBreaker();
      this.breakers.set(service, b);
    }
    return b;
  }

  #applyFaults(service: string): void {
    const spec = this.#runtimeFaults.get(service) ?? this.#fileFaults.get(service);
    const f = this.faults.get(service);
    if (spec === undefined) this.faults.delete(service);
    // The injector object stays: a route table holding it sees the change at once.
    else if (f !== undefined) f.spec = spec;
    else this.faults.set(service, new FaultInjector(spec, this.#rand));
  }
}
