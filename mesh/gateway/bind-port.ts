// Binding one of the gateway's ports: a proxy listener for the one service on it, or a Host dispatcher in front of a
// listener per service when HTTP services share the port.

import type { GatewayService } from '../../daemon/api/gateway-control.ts';
import type { MeshSpec } from '../../daemon/api/project.ts';
import { type AccessLogEntry, createHttpProxy, ProxyListener, publishService, type RequestCounter } from '../proxy/index.ts';
import type { Registry } from '../registry.ts';
import { type Bound, fingerprint } from './bound-port.ts';
import type { GatewayPolicies } from './gateway-policy.ts';
import { HostDispatcher } from './host-dispatch.ts';

/** A service on a port, and how its traffic there is proxied. */
export interface PortUser {
  svc: GatewayService;
  protocol: 'http' | 'tcp';
}

/** What every listener of the gateway is built from (its pools, policies, logging and counting). */
export interface BindContext {
  /** Address the listeners bind. */
  host: string;
  project: string;
  registry: Registry;
  policies: GatewayPolicies;
  log: ((line: string) => void) | undefined;
  /** HTTP/1.x requests are counted in plain values (no entry object per request). */
  countRequest: RequestCounter;
  /** HTTP/2 streams still bring an entry. */
  onRequest: (entry: AccessLogEntry) => void;
}

export async function bindPort(ctx: BindContext, port: number, users: PortUser[]): Promise<Bound> {
  const { host, project, registry, policies, log } = ctx;
  const proxyFor = (svc: GatewayService, protocol: 'http' | 'tcp') => ({
    service: svc.name,
    pool: registry.pool(project, svc.name).forPort(port),
    mesh: { ...(svc.mesh as MeshSpec), protocol },
    ...(protocol === 'http' ? { policy: policies.listener(svc.name, port) } : {}),
    onAccessLog: (line: string) => log?.(line),
    countRequest: ctx.countRequest,
    onRequest: ctx.onRequest,
  });
  const listeners = new Map<string, ProxyListener>();
  const fingerprints = users.map(fingerprint);
  if (users.length === 1) {
    const { svc, protocol } = users[0]!;
    const listener = await publishService(proxyFor(svc, protocol), { host, port });
    listeners.set(svc.name, listener);
    return { users: fingerprints, listeners, server: listener.server, close: () => listener.close() };
  }
  // Only HTTP services share a port (api/east-west.ts leaves TCP collisions out): tell them apart by Host.
  const routes = users.map(({ svc }) => {
    const listener = new ProxyListener({ proxy: createHttpProxy(proxyFor(svc, 'http')) });
    listeners.set(svc.name, listener);
    return { names: svc.names, listener };
  });
  const dispatcher = new HostDispatcher(port, routes);
  await dispatcher.listen(host);
  const rename = (svcs: GatewayService[]) => dispatcher.rename(new Map(svcs.map((svc) => [listeners.get(svc.name)!, svc.names])));
  return { users: fingerprints, listeners, server: dispatcher.server, rename, close: () => dispatcher.close() };
}
