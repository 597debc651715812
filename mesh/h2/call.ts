// What an HTTP/2 stream's attempt needs of a replica, whatever it speaks (HTTP/1.1 or h2c): the request to send, and
// the sink that hears the response, its trailers and its failure. Header rules between the two framings live here.

import type { OutgoingHttpHeaders } from 'node:http2';
import type { ProxyContext } from '../proxy/context.ts';
import type { Upstream } from '../upstream-pool.ts';
import { type ForwardingInfo, HOP_BY_HOP, connectionNamed } from '../proxy/forwarded-headers.ts';
import type { AttemptPhase } from '../proxy/retry.ts';

export interface CallRequest {
  method: string;
  /** Origin-form target (`:path`). */
  path: string;
  /** `[name, value, ...]` as sent to a replica, `host` included, hop-by-hop fields already removed. */
  headers: string[];
  /** The client ended its stream with the headers: no body will follow. */
  noBody: boolean;
  /** The client said `te: trailers` (gRPC does): an h2c replica is told so too. */
  teTrailers: boolean;
}

export interface CallSink {
  /** The replica's response head, with HTTP/2-legal fields only. */
  response(status: number, headers: OutgoingHttpHeaders): void;
  /** A body chunk; false asks the call to pause until `resume()`. */
  data(chunk: Buffer): boolean;
  /** The response is complete; `trailers` when the replica sent any. */
  end(trailers: OutgoingHttpHeaders | undefined): void;
  /** The attempt failed: `phase` says what the replica can have seen (retry.ts), `code` why. */
  failed(phase: AttemptPhase, outcome: 'connect-error' | 'reset' | 'timeout', code: string | undefined): void;
}

export interface UpstreamCall {
  write(chunk: Buffer): void;
  end(): void;
  pause(): void;
  resume(): void;
  /** Stops the attempt (client gone, or a retry replaces it); the sink hears nothing more. */
  cancel(): void;
}

/** Opens calls to replicas: over HTTP/1.1 (h1-dialer.ts) or over one h2c session per replica (h2c-sessions.ts). */
export interface Dialer {
  dial(up: Upstream, req: CallRequest, sink: CallSink): UpstreamCall;
  /** The replica left the service: its connections close once their streams are done. */
  closeUpstream(id: string): void;
  close(force: boolean): void;
}

/** What every stream of one client session shares. */
export interface StreamSettings {
  ctx: ProxyContext;
  /** Replica connections: h2c sessions, or HTTP/1.1 keep-alive pools. */
  dialer(h2c: boolean): Dialer;
  info: ForwardingInfo;
  clientCert: string | undefined;
  /** The client speaks HTTP/2 (else HTTP/1.1 to h2c replicas): the access log says `protocol: h2`. */
  http2: boolean;
}

/** A response field list (`[name, value, ...]`) as HTTP/2 headers: connection-specific fields are not allowed there. */
export function h2ResponseHeaders(raw: readonly string[]): OutgoingHttpHeaders {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'connection') named = connectionNamed(raw[i + 1]!, named);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = raw[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [String(had), value];
  }
  return out;
}

/** An HTTP/2 header object (incoming response or trailers) as a field list, pseudo-headers dropped. */
export function fieldList(h: Record<string, string | string[] | number | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}
