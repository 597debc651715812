// The gateway hub's side of a start-first gateway replacement (reconcile/execute-gateway-rollout.ts): both containers
// of one index are connected to the project's control socket at once, told apart by the hostname in their reports
// (the short container id); the one being replaced is named in the table's drain list until it is gone.

import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayStats } from './api/gateway-control.ts';
import { coldServices } from '../mesh/gateway/warm-up.ts';
import type { GatewayRolloutHooks } from './reconcile/plan-types.ts';

const POLL_MS = 25;
/**
 * The old gateway drains at least this long once it says it drains: keep-alive callers get `Connection: close` on
 * their next answer and idle ones are closed (every 100 ms), so they look the name up again while it still answers.
 */
const MIN_DRAIN_MS = 500;

export interface GatewayRolloutDeps {
  /** The latest report of the container with this hostname, undefined before it reported. */
  reportOf(host: string): GatewayStats | undefined;
  /** Sends the table again now (its drain list changed). */
  publish(): void;
}

/** Whether a report says its gateway answers every one of `services`, with a routable replica where one runs. */
export function servingAll(report: GatewayStats | undefined, services: readonly string[]): boolean {
  if (!report?.serving) return false;
  const serving = new Set(report.serving);
  const cold = new Set(coldServices(report.services));
  return services.every((s) => serving.has(s) && !cold.has(s));
}

const idle = (report: GatewayStats): boolean => report.services.every((s) => s.replicas.every((r) => r.inFlight === 0));

/** Per project, the gateway containers being drained; the table names them (GatewayTableExtras.drain). */
export class GatewayDrains {
  readonly #draining = new Map<string, Set<string>>();

  list(project: string): string[] {
    return [...(this.#draining.get(project) ?? [])];
  }

  clear(project: string): void {
    this.#draining.delete(project);
  }

  hooks(project: string, deps: GatewayRolloutDeps): GatewayRolloutHooks {
    return {
      waitServing: async (host, services, timeoutMs, signal) => {
        const deadline = Date.now() + timeoutMs;
        while (!signal?.aborted && Date.now() < deadline) {
          if (servingAll(deps.reportOf(host), services)) return true;
          await sleep(POLL_MS);
        }
        return false;
      },
      drain: async (host, graceMs) => {
        const set = this.#draining.get(project) ?? new Set<string>();
        this.#draining.set(project, set.add(host));
        deps.publish();
        const since = Date.now();
        const deadline = since + graceMs;
        let drainingSince: number | undefined;
        while (Date.now() < deadline) {
          const report = deps.reportOf(host);
          // Gone, or an older gateway that cannot drain: nothing to wait for beyond the minimum.
          if (!report || (report.draining === undefined && Date.now() - since >= MIN_DRAIN_MS)) return;
          if (report.draining && report.time >= since) drainingSince ??= Date.now();
          if (drainingSince !== undefined && Date.now() - drainingSince >= MIN_DRAIN_MS && idle(report)) return;
          await sleep(POLL_MS);
        }
      },
      forget: (host) => {
        const set = this.#draining.get(project);
        if (!set?.delete(host)) return;
        if (set.size === 0) this.#draining.delete(project);
        deps.publish();
      },
    };
  }
}
