// The proxy's public surface: the daemon creates one proxy + listener per published port of a service.

import { type HttpProxyOptions, createHttpProxy } from './http-proxy.ts';
import { type BoundAddress, ProxyListener, type ProxyListenerOptions } from './listener.ts';
import { createTcpProxy } from './tcp-proxy.ts';

export type { AccessLogEntry, AccessLogSink, RequestCounter } from './access-log.ts';
export { formatAccessLog } from './access-log.ts';
export type { AttemptStats, ProxyStats } from './context.ts';
export type { ProxyError, ProxyErrorCode } from './error-responses.ts';
export { TrustedProxies, upstreamRequestHeaders } from './forwarded-headers.ts';
export { compileHashKey, cookieValue } from './hash-key.ts';
export { type HttpProxy, type HttpProxyOptions, createHttpProxy } from './http-proxy.ts';
export { type BoundAddress, ProxyListener, type ProxyListenerOptions } from './listener.ts';
export { REPLAY_LIMIT } from './request-body.ts';
export { RetryBudget, isReplaySafe, retryDecision } from './retry.ts';
export { type TcpProxy, type TcpProxyOptions, type TcpProxyStats, createTcpProxy } from './tcp-proxy.ts';
export { UpstreamClients } from './upstream-client.ts';

export interface ServiceProxyOptions extends Omit<HttpProxyOptions, 'onAccessLog'> {
  /** One JSON line per request (HTTP) or per connection (TCP), when `mesh.accessLog` is on. */
  onAccessLog?: (line: string) => void;
  listener?: Omit<ProxyListenerOptions, 'proxy'>;
}

/** Builds the HTTP or TCP proxy `mesh.protocol` asks for and binds it; the caller owns `close()`. */
export async function publishService(o: ServiceProxyOptions, where: BoundAddress): Promise<ProxyListener> {
  const proxy =
    o.mesh.protocol === 'tcp'
      ? createTcpProxy({ service: o.service, pool: o.pool, mesh: o.mesh, ...(o.onAccessLog === undefined ? {} : { onAccessLog: o.onAccessLog }) })
      : createHttpProxy(o);
  const listener = new ProxyListener({ ...o.listener, proxy });
  await listener.listen(where);
  return listener;
}
