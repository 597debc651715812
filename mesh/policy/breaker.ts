// Circuit breaker per target service: bounds on upstream connections, requests waiting for an attempt (pending) and
// requests in flight. Past a bound the proxy answers 503 `overflow` at once; nothing is queued without bound.
// (The per-replica half is the pool's outlier ejection, mesh/health/passive.ts.)

import type { CircuitBreakerSpec } from '../../daemon/api/traffic-policy.ts';

export interface BreakerStats {
  connections: number;
  pending: number;
  requests: number;
  /** Requests refused because a bound was reached, by bound. */
  overflow: { connections: number; pending: number; requests: number };
}

export class CircuitBreaker {
  #spec: CircuitBreakerSpec;
  readonly #s: BreakerStats = { connections: 0, pending: 0, requests: 0, overflow: { connections: 0, pending: 0, requests: 0 } };

  constructor(spec: CircuitBreakerSpec = {}) {
    this.#spec = spec;
  }

  /** New limits apply to what comes next; what is in flight keeps running (an `up` never drops requests). */
  update(spec: CircuitBreakerSpec = {}): void {
    this.#spec = spec;
  }

  /** Admits a request (counted in flight and pending) or says which bound refused it. */
  admit(): 'ok' | 'requests' | 'pending' {
    const s = this.#s;
    const { maxRequests, maxPending } = this.#spec;
    if (maxRequests !== undefined && s.requests >= maxRequests) {
      s.overflow.requests++;
      return 'requests';
    }
    if (maxPending !== undefined && s.pending >= maxPending) {
      s.overflow.pending++;
      return 'pending';
    }
    s.requests++;
    s.pending++;
    return 'ok';
  }

  /** The admitted request got its first upstream attempt: no longer pending. */
  dispatched(): void {
    if (this.#s.pending > 0) this.#s.pending--;
  }

  /** The admitted request ended; `stillPending` when it ended before any attempt (aborted, refused). */
  done(stillPending: boolean): void {
    if (this.#s.requests > 0) this.#s.requests--;
    if (stillPending) this.dispatched();
  }

  /** May another upstream connection be opened? Counts it when yes. */
  openConnection(): boolean {
    const { maxConnections } = this.#spec;
    if (maxConnections !== undefined && this.#s.connections >= maxConnections) {
      this.#s.overflow.connections++;
      return false;
    }
    this.#s.connections++;
    return true;
  }

  connectionClosed(): void {
    if (this.#s.connections > 0) this.#s.connections--;
  }

  stats(): BreakerStats {
    return { ...this.#s, overflow: { ...this.#s.overflow } };
  }
}

export function overflowResponse(service: string, bound: string, close: boolean): string {
  const payload = `cmesh: circuit breaker of service "${service}" is open (${bound} limit reached)\n`;
  return (
    `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
    `X-Cmesh-Error: overflow\r\nCache-Control: no-store\r\n${close ? 'Connection: close\r\n' : ''}\r\n${payload}`
  );
}
