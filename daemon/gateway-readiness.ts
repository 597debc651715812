// East-west readiness: a meshed service's name is answered once the gateway it is placed on reports a listener bound
// on each of its ports. depends_on gates and `up --wait` wait for that; the wait wakes on every gateway report (the
// gateway reports right after it applied a table), so nothing polls a port.

import { CmeshError, isCmeshError } from './api/errors.ts';
import type { GatewayStats } from './api/gateway-control.ts';
import type { WakeSource } from './reconcile/nap.ts';
import { pollUntil, type Verdict } from './reconcile/wait.ts';

/**
 * Whether callers of `service` by name are answered, given each gateway's latest report. `gateway` undefined: the
 * service is not placed on a gateway (not meshed), so Docker DNS answers for it and there is nothing to wait for.
 */
export function answeredByName(reports: readonly GatewayStats[], gateway: number | undefined, service: string): boolean {
  if (gateway === undefined) return true;
  const report = reports.find((r) => (r.gateway ?? 0) === gateway);
  if (!report) return false;
  // A gateway older than the field: a pool for the service is the best sign it has (its listeners follow the pools).
  if (report.serving === undefined) return report.services.some((row) => row.service === service);
  return report.serving.includes(service);
}

export interface AnsweredWait {
  timeoutMs: number;
  signal?: AbortSignal;
  /** The gateways' latest warnings, for the message of a wait that times out. */
  warnings?: () => string[];
}

/** Waiters on the gateways' reports: notify() on each report wakes them all to look again, at once. */
export class NameReadiness {
  readonly #listeners = new Set<(fresh?: boolean) => void>();

  readonly wake: WakeSource = (listener) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /**
   * Called once a report is in the hub's state: fresh, so a waiter looks at once instead of giving the engine its
   * settle first (nap.ts; the gateway's own word needs none, as a start probe's pass needs none).
   */
  notify(): void {
    for (const listener of this.#listeners) listener(true);
  }

  /**
   * Resolves once `pending()` names no service; throws CMESH_E_TIMEOUT naming those still unanswered. The slow poll is
   * only the safety net for a report that was missed.
   */
  async until(pending: () => string[], what: string, hint: string, options: AnsweredWait): Promise<void> {
    const check = async (): Promise<Verdict> => {
      const left = pending();
      if (left.length === 0) return { kind: 'ok' };
      // What the gateway itself says (a port it cannot bind) is the likeliest reason: it goes into the timeout's message.
      const said = options.warnings?.() ?? [];
      return { kind: 'pending', why: `no listener answers for ${left.join(', ')} yet${said.length > 0 ? ` (the gateway says: ${said.join('; ')})` : ''}` };
    };
    try {
      await pollUntil(check, what, { timeoutMs: options.timeoutMs, pollMs: 500, wake: this.wake, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (err) {
      if (isCmeshError(err) && err.code === 'CMESH_E_TIMEOUT') throw new CmeshError(err.code, err.message, { hint, cause: err });
      throw err;
    }
  }
}
