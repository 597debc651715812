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

/** Per project, the gateway containers being drained and retired; the table names them (GatewayTableExtras). */
export class GatewayDrains {
  /** project → host → retired (its listeners close) or only draining. */
  readonly #hosts = new Map<string, Map<string, boolean>>();

  lists(project: string): { drain: string[]; retire: string[] } {
    const hosts = [...(this.#hosts.get(project) ?? [])];
    return { drain: hosts.map(([h]) => h), retire: hosts.filter(([, retired]) => retired).map(([h]) => h) };
  }

  clear(project: string): void {
    this.#hosts.delete(project);
  }

  #mark(project: string, host: string, retired: boolean): void {
    const hosts = this.#hosts.get(project) ?? new Map<string, boolean>();
    this.#hosts.set(project, hosts.set(host, retired));
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
        this.#mark(project, host, false);
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
      retire: async (host, graceMs) => {
        this.#mark(project, host, true);
        deps.publish();
        const deadline = Date.now() + graceMs;
        for (let report = deps.reportOf(host); report && Date.now() < deadline; report = deps.reportOf(host)) {
          // An older gateway that cannot retire: its listeners stay until the container goes.
          if (report.retired || report.draining === undefined) return;
          await sleep(POLL_MS);
        }
      },
      forget: (host) => {
        const hosts = this.#hosts.get(project);
        if (!hosts?.delete(host)) return;
        if (hosts.size === 0) this.#hosts.delete(project);
        deps.publish();
      },
    };
  }
}
