// An HTTP/2 request's headers as the replica gets them: pseudo-headers become the request line and Host, and the
// forwarding rules (hop-by-hop fields, X-Forwarded-*, a client's own x-forwarded-client-cert) are the HTTP/1.1 path's.

import type { IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import { type ForwardingInfo, upstreamRequestHeaders } from '../proxy/forwarded-headers.ts';
import type { CallRequest } from './call.ts';

export function callRequest(h: IncomingHttpHeaders, info: ForwardingInfo, noBody: boolean): CallRequest {
  const raw: string[] = [];
  const authority = h[':authority'];
  if (typeof authority === 'string') raw.push('host', authority);
  let teTrailers = false;
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || name.startsWith(':') || (name === 'host' && authority !== undefined)) continue;
    if (name === 'te') teTrailers = String(value).toLowerCase().includes('trailers');
    if (Array.isArray(value)) for (const v of value) raw.push(name, v);
    else raw.push(name, value);
  }
  return {
    method: String(h[':method'] ?? 'GET'),
    path: String(h[':path'] ?? '/'),
    headers: upstreamRequestHeaders(raw, info),
    noBody,
    teTrailers,
  };
}

/** An HTTP/1.1 request (node's http server) for h2c replicas; `te: trailers` is asked for when the client allows it. */
export function h1CallRequest(req: IncomingMessage, info: ForwardingInfo): CallRequest {
  const te = req.headers.te;
  const length = req.headers['content-length'];
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    headers: upstreamRequestHeaders(req.rawHeaders, info),
    noBody: req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0'),
    teTrailers: te !== undefined && String(te).toLowerCase().includes('trailers'),
  };
}
