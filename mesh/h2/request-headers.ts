// An HTTP/2 (or, for h2c replicas, HTTP/1.1) request as the replica gets it: the listener's policy decides first (a
// route may rewrite the path and edit headers, as for HTTP/1.1), then pseudo-headers become the request line and Host,
// and the forwarding rules (hop-by-hop fields, X-Forwarded-*, a client's own x-forwarded-client-cert) apply.

import type { IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import type { Answer, Forward, ListenerPolicy } from '../policy/listener-policy.ts';
import { type ForwardingInfo, upstreamRequestHeaders } from '../proxy/forwarded-headers.ts';
import type { CallRequest } from './call.ts';

/** The client's request head, fields as `[name, value, ...]` with `host` (HTTP/1.1 form). */
export interface ClientHead {
  method: string;
  path: string;
  fields: string[];
  noBody: boolean;
  /** The client said `te: trailers` (gRPC does): an h2c replica is told so too. */
  teTrailers: boolean;
}

export function h2Head(h: IncomingHttpHeaders, noBody: boolean): ClientHead {
  const fields: string[] = [];
  const authority = h[':authority'];
  if (typeof authority === 'string') fields.push('host', authority);
  let teTrailers = false;
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || name.startsWith(':') || (name === 'host' && authority !== undefined)) continue;
    if (name === 'te') teTrailers = String(value).toLowerCase().includes('trailers');
    if (Array.isArray(value)) for (const v of value) fields.push(name, v);
    else fields.push(name, value);
  }
  return { method: String(h[':method'] ?? 'GET'), path: String(h[':path'] ?? '/'), fields, noBody, teTrailers };
}

export function h1Head(req: IncomingMessage): ClientHead {
  const length = req.headers['content-length'];
  const te = req.headers.te;
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    fields: req.rawHeaders,
    noBody: req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0'),
    teTrailers: te !== undefined && String(te).toLowerCase().includes('trailers'),
  };
}

export function routedRequest(head: ClientHead, policy: ListenerPolicy | undefined, info: ForwardingInfo): { req: CallRequest; decision: Answer | Forward | undefined } {
  const decision = policy?.decide(head.method, head.path, head.fields, info.clientIp);
  const forward = decision?.kind === 'forward' ? decision : undefined;
  const req: CallRequest = {
    method: head.method,
    path: forward?.url ?? head.path,
    headers: upstreamRequestHeaders(forward?.headers ?? head.fields, info),
    noBody: head.noBody,
    teTrailers: head.teTrailers,
  };
  return { req, decision };
}
