// A port the gateway listens on, and what it was bound for: a listener per service (several behind one Host
// dispatcher when HTTP services share the port).

import type { GatewayService } from '../../daemon/api/gateway-control.ts';
import type { ProxyListener } from '../proxy/index.ts';

/** A bound port; `users`, the fingerprint of each service it was bound for. */
export type Bound = { users: string[]; close: () => Promise<void>; listeners: Map<string, ProxyListener> };

export function drainListeners(b: Bound): void {
  for (const l of b.listeners.values()) if (l.proxy.kind === 'http') l.proxy.startDraining();
}

/** Closes the HTTP client connections that wait for a request (keep-alive) on every listener of the port. */
export function closeIdle(b: Bound): void {
  for (const l of b.listeners.values()) if (l.proxy.kind === 'http') l.proxy.closeIdleConnections();
}

/** What a service's listener on a port is built from; the proxy reads its settings once, so a change rebinds. */
export function fingerprint({ svc, protocol }: { svc: GatewayService; protocol: 'http' | 'tcp' }, named: boolean): string {
  return JSON.stringify([svc.name, named ? svc.names : [], protocol, { ...svc.mesh, health: undefined, weights: undefined, weight: undefined, lb: undefined }]);
}
