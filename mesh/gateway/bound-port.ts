// A port the gateway listens on, and what it was bound for: a listener per service (several behind one Host
// dispatcher when HTTP services share the port).

import type net from 'node:net';
import type { GatewayService } from '../../daemon/api/gateway-control.ts';
import type { ProxyListener } from '../proxy/index.ts';

/** A bound port; `users`, the fingerprint of each service it was bound for; `server`, the one that accepts. */
export type Bound = {
  users: string[];
  close: () => Promise<void>;
  listeners: Map<string, ProxyListener>;
  server: net.Server;
  /** On a port shared by Host: the services' names changed (their listeners stay). */
  rename?: (services: GatewayService[]) => void;
};

export function drainListeners(b: Bound): void {
  for (const l of b.listeners.values()) if (l.proxy.kind === 'http') l.proxy.startDraining();
}

/** A called-off drain: the port's HTTP listeners keep connections alive again. */
export function undrainListeners(b: Bound): void {
  for (const l of b.listeners.values()) if (l.proxy.kind === 'http') l.proxy.stopDraining();
}

/**
 * What a service's listener on a port is built from; the proxy reads its settings once, so a change rebinds. Not its
 * names: they only pick the listener on a shared port, and the dispatcher takes new ones in place (Bound.rename).
 */
export function fingerprint({ svc, protocol }: { svc: GatewayService; protocol: 'http' | 'tcp' }): string {
  return JSON.stringify([svc.name, protocol, { ...svc.mesh, health: undefined, weights: undefined, weight: undefined, lb: undefined }]);
}

/**
 * In a cluster worker the socket is the supervisor's, shared: close() lets go of this worker's copy, and the primary
 * closes the socket once no worker holds it (node's SharedHandle). A retiring gateway runs one worker, or, mid-swap,
 * an old one that lets go at its drain and a new one whose tables retire it too: the socket closes and callers are
 * refused all the same (supervisor-binding.test.ts). The primary's close follows this worker's by one IPC message.
 *
 * Closes the listening socket right after an accept round (or after `maxWaitMs` without one): closing it resets the
 * connections still in its accept queue, whose callers already sent their request. Just after node's accept loop ran
 * until the queue was empty (the check phase after that poll), the queue holds only what arrived in between.
 */
export function stopAccepting(server: net.Server, maxWaitMs = 100): Promise<void> {
  return new Promise((resolve) => {
    const close = (): void => {
      clearTimeout(timer);
      server.off('connection', close);
      setImmediate(() => {
        server.close(() => undefined);
        resolve();
      });
    };
    const timer = setTimeout(close, maxWaitMs);
    server.on('connection', close);
  });
}
