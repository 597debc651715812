// Token-bucket rate limiting per key (client IP, a header's value, or the route): `burst` tokens, refilled at
// `requestsPerSecond`. Over it the proxy answers 429 with Retry-After. Buckets live in this process only.

import type { RateLimitSpec } from '../../daemon/api/traffic-policy.ts';
import { headerValue } from './route-match.ts';

interface Bucket {
  tokens: number;
  at: number;
  /** When it last moved to the recent end of the LRU order. */
  touched: number;
}

/** Past this many keys the least recently used bucket goes (a full bucket is what a new key starts with anyway). */
const MAX_KEYS = 50_000;

export class RateLimiter {
  readonly spec: RateLimitSpec;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  readonly #maxKeys: number;
  limited = 0;

  constructor(spec: RateLimitSpec, opts: { now?: () => number; maxKeys?: number } = {}) {
    this.spec = spec;
    this.#now = opts.now ?? (() => performance.now());
    this.#maxKeys = opts.maxKeys ?? MAX_KEYS;
  }

  /** Takes a token for `key`: 0 when allowed, else the whole seconds until one is back (for Retry-After, ≥ 1). */
  take(key: string): number {
    const now = this.#now();
    const { requestsPerSecond: rate, burst } = this.spec;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: burst, at: now, touched: now };
      this.#buckets.set(key, b);
    } else {
      // Re-inserted so the map's order is least recently used first, to the second: a key seen within the last
      // second keeps its place (a delete and set per request cost more than the rest of the limiter).
      if (now - b.touched > 1000) {
        this.#buckets.delete(key);
        this.#buckets.set(key, b);
        b.touched = now;
      }
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    this.limited++;
    return Math.max(1, Math.ceil((1 - b.tokens) / rate));
  }

  get keys(): number {
    return this.#buckets.size;
  }
}

/**
 * The bucket key of a request under `spec.key`; a missing header shares one bucket (''), as Envoy's descriptors do.
 * `route`: one bucket per route of the listener's `service` (`service#index`), the service's own without a route.
 */
export function rateLimitKey(spec: RateLimitSpec, clientIp: string, rawHeaders: readonly string[], service: string, route: { index: number } | undefined): string {
  if (spec.key === 'ip') return clientIp;
  // The route's string is only built for a limit keyed by it (this runs on every request).
  if (spec.key === 'route') return route === undefined ? service : `${service}#${route.index}`;
  return headerValue(rawHeaders, spec.key.slice(7)) ?? '';
}

export function rateLimitedResponse(retryAfterS: number, service: string, close: boolean): string {
  const payload = `cmesh: rate limit of service "${service}" exceeded; retry after ${retryAfterS}s\n`;
  return (
    `HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n` +
    `Retry-After: ${retryAfterS}\r\nX-Cmesh-Error: rate-limited\r\nCache-Control: no-store\r\n${close ? 'Connection: close\r\n' : ''}\r\n${payload}`
  );
}
