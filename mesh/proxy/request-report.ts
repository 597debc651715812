// How a finished HTTP/1.x request reaches the request metrics and the access log. Metrics count every request, the
// access log is off by default: when only counters listen, the request is counted in plain values (no entry object,
// no wall-clock time, no JSON), and an AccessLogEntry is built only for a sink that wants one.

import { performance } from 'node:perf_hooks';
import { accessLogEntry, formatAccessLog, type LoggedExchange, routeLabel } from './access-log.ts';
import type { ProxyContext } from './context.ts';

/** Reports a finished exchange: counted (ctx.countRequest, else ctx.onRequest's entry), and logged when a sink is set. */
export function reportRequest(
  ctx: Pick<ProxyContext, 'service' | 'countRequest' | 'onRequest' | 'onAccessLog'>,
  ex: LoggedExchange,
  client: { readonly clientIp: string; readonly clientCert: string | undefined },
  upstream: string | undefined,
  errorCode: string | undefined,
  route: { index: number; label: string } | undefined,
  now: number = performance.now(),
): void {
  const count = ctx.countRequest;
  if (count !== undefined) {
    const target = ex.service !== ctx.service ? ex.service : undefined;
    count(ctx.service, upstream, ex.method, ex.headSent ? ex.status : 0, now - ex.startedAt, routeLabel(route), target, ex.aborted ? 'client-abort' : errorCode);
    if (ctx.onAccessLog === undefined) return;
  } else if (ctx.onRequest === undefined && ctx.onAccessLog === undefined) return;
  const entry = accessLogEntry(ex, ctx.service, client.clientIp, upstream, errorCode, routeLabel(route));
  if (client.clientCert !== undefined) entry.clientCert = client.clientCert;
  if (count === undefined) ctx.onRequest?.(entry);
  ctx.onAccessLog?.(formatAccessLog(entry), entry);
}
