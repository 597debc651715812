// Where an HTTP/2 stream goes under its listener's traffic policy (mesh/policy), as HTTP/1.1 requests do: a route's
// target service, retries and timeouts, breaker and response edits; or the policy's own answer (redirect, 404, 429,
// injected fault, overflow), rendered for HTTP/1.1 and re-framed here for the stream.

import type { OutgoingHttpHeaders } from 'node:http2';
import type { HeaderEdits, RetrySpec } from '../../daemon/api/traffic-policy.ts';
import type { CircuitBreaker } from '../policy/breaker.ts';
import type { Answer, Forward } from '../policy/listener-policy.ts';
import { routeLabel } from '../proxy/access-log.ts';
import type { ProxyContext } from '../proxy/context.ts';
import type { UpstreamPool } from '../upstream-pool.ts';
import { h2ResponseHeaders } from './call.ts';

export interface StreamRoute {
  service: string;
  pool: UpstreamPool;
  /** The target's replicas speak h2c. */
  h2c: boolean;
  retries: number;
  requestMs: number;
  retryOn: RetrySpec | undefined;
  delayMs: number;
  responseEdits: HeaderEdits | undefined;
  breaker: CircuitBreaker | undefined;
  /** `#<index> <match>` for the access log, when a route matched. */
  label: string | undefined;
}

export function streamRoute(ctx: ProxyContext, decision: Answer | Forward | undefined): StreamRoute {
  if (decision?.kind === 'forward') {
    const { target } = decision;
    return {
      service: target.service,
      pool: target.pool,
      h2c: target.mesh.upstream === 'h2c',
      retries: decision.retries,
      requestMs: decision.timeouts.requestMs,
      retryOn: decision.retry,
      delayMs: decision.delayMs,
      responseEdits: decision.responseHeaders,
      breaker: decision.breaker,
      label: routeLabel(decision.route),
    };
  }
  return {
    service: decision?.target ?? ctx.service,
    pool: ctx.pool,
    h2c: ctx.mesh.upstream === 'h2c',
    retries: ctx.mesh.retries,
    requestMs: ctx.mesh.timeouts.requestMs,
    retryOn: undefined,
    delayMs: 0,
    responseEdits: undefined,
    breaker: undefined,
    label: routeLabel(decision?.route),
  };
}

/** The policy's answer (an HTTP/1.1 message) as the status, HTTP/2 headers and body a stream sends. */
export function answerParts(a: Answer): { headers: OutgoingHttpHeaders; body: Buffer } {
  const text = Buffer.from(a.render(false), 'latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = text.subarray(0, end).toString('latin1').split('\r\n').slice(1);
  const raw: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { headers: h2ResponseHeaders(raw), body: text.subarray(end + 4) };
}
