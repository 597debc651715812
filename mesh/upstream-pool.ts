// The contract between the proxy and the service table: the proxy asks for an upstream and reports how it went.

import type { PickContext } from './balancer/types.ts';

export interface Upstream {
  /** Replica id, e.g. `web#2`. */
  id: string;
  /** Always loopback: replicas publish on 127.0.0.1 with an engine-assigned port. */
  host: string;
  port: number;
}

/** How one attempt at an upstream ended, as the proxy saw it; passive health reacts to these. */
export type AttemptOutcome = 'ok' | 'http-5xx' | 'connect-error' | 'reset' | 'timeout';

export interface PoolSnapshot {
  total: number;
  healthy: number;
  draining: number;
  panic: boolean;
}

export interface UpstreamPool {
  readonly service: string;
  /** undefined when no replica can take traffic (the proxy answers 503 saying why). */
  pick(ctx?: PickContext): Upstream | undefined;
  /** An attempt at `up` (as pick returned it) starts; a pool may keep per-upstream state on what it hands out. */
  onStart(up: Upstream): void;
  /** That attempt ended. */
  onResult(up: Upstream, latencyMs: number, outcome: AttemptOutcome): void;
  snapshot(): PoolSnapshot;
}
