// A parsed client request turned into the upstream request head (one string, one pass over the raw headers), with
// the checks llhttp leaves to us: target form, Host, Expect, and how the body is framed; kept per client connection and
// reused while the client repeats the same request (PreparedRequest's memo).

import type { ProxyError } from './error-responses.ts';
import { type ForwardedSoFar, type ForwardingInfo, absorbForwarded, connectionNamed, dropNamedLines, newForwardedSoFar } from './forwarded-headers.ts';
import { XFCC } from '../tls/identity.ts';
import { equalsLower } from './ascii-case.ts';
import { H_CONNECTION, H_CONTENT_LENGTH, H_EXPECT, H_HOP, H_HOST, H_IDEMPOTENCY_KEY, H_KEEP_ALIVE, H_OTHER, H_TRANSFER_ENCODING, H_X_FORWARDED_FOR, H_X_FORWARDED_HOST, H_X_FORWARDED_PROTO, headerKind, sameFields } from './header-names.ts';
import { parseTarget } from './request-target.ts';
import { isReplaySafe } from './retry.ts';

const FWD = newForwardedSoFar();

const CONTINUE_RE = /^100-continue$/i;

/** What prepareRequest found; one object per client connection, overwritten for each request. */
export interface PreparedRequest {
  /** The upstream head up to and without its blank line (each attempt adds body framing). */
  head: string;
  /** `head` with its blank line: what a bodiless request sends as it is (flat once written, kept while the memo holds). */
  wire: string;
  /** The client sent no Host (HTTP/1.0): attempts name the replica instead. */
  needsHost: boolean;
  /** The body comes chunked (re-framed upstream), or with this Content-Length (-1 = no body). */
  chunked: boolean;
  contentLength: number;
  /** `Expect: 100-continue` on HTTP/1.1: the proxy answers it before reading the body. */
  expectContinue: boolean;
  replaySafe: boolean;
  /** The last X-Forwarded-* and Via lines built from the connection's own facts, for the `info` and host they were built for. */
  tail: string;
  tailInfo: ForwardingInfo | undefined;
  tailHost: string | undefined;
  /**
   * What the fields above were built from (memoRaw undefined: nothing, or a refusal). A keep-alive client sends the
   * same request again and again: when method, target, fields, version and connection are the same, they stand as
   * they are, at the price of 2 × fields string compares instead of classifying and concatenating each field again.
   */
  memoMethod: string;
  memoUrl: string;
  memoRaw: readonly string[] | undefined;
  memoHttp11: boolean;
  memoInfo: ForwardingInfo | undefined;
  /** Heads built (memo misses), for tests. */
  builds: number;
}

export function newPreparedRequest(): PreparedRequest {
  return {
    head: '',
    wire: '',
    needsHost: false,
    chunked: false,
    contentLength: -1,
    expectContinue: false,
    replaySafe: true,
    tail: '',
    tailInfo: undefined,
    tailHost: undefined,
    memoMethod: '',
    memoUrl: '',
    memoRaw: undefined,
    memoHttp11: false,
    memoInfo: undefined,
    builds: 0,
  };
}

export function hasBody(r: PreparedRequest): boolean {
  return r.chunked || r.contentLength > 0;
}

/**
 * Builds the upstream head for `method url` with `raw` headers into `out`, or returns why the request is refused.
 * Rewriting as in upstreamRequestHeaders: hop-by-hop and Connection-named fields dropped, X-Forwarded-* replaced
 * (or extended for trusted peers), absolute-form authority as Host; everything else keeps its case and order.
 */
export function prepareRequest(method: string, url: string, raw: readonly string[], http11: boolean, info: ForwardingInfo, out: PreparedRequest): ProxyError | undefined {
  const last = out.memoRaw;
  // The same request as the last one on this connection: `out` already holds what it makes.
  if (last !== undefined && method === out.memoMethod && url === out.memoUrl && http11 === out.memoHttp11 && info === out.memoInfo && sameFields(raw, last)) return undefined;
  out.memoRaw = undefined;
  out.builds++;
  // Origin-form (a path) passes as it is, without building a RequestTarget.
  let path = url;
  let authority: string | undefined;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const target = parseTarget(url);
    if (typeof target === 'string') return { status: 400, code: 'bad-request', message: target };
    path = target.path;
    authority = target.host;
  }
  let named: Set<string> | undefined;
  // `+`, not template literals, on the hot path: a template calls the ToString builtin per piece, strings included
  // (~130 instructions a line, bench/RESULTS.md "cpugap"); `+` on strings TurboFan adds directly.
  let head = method + ' ' + path + ' HTTP/1.1\r\n';
  let hosts = 0;
  let host: string | undefined;
  // Reused: this runs once per request on the proxy's hot path and never re-enters.
  const fwd = FWD;
  fwd.xff = undefined;
  fwd.proto = undefined;
  fwd.host = undefined;
  let expect: string | undefined;
  let chunked = false;
  let contentLength = -1;
  let idempotencyKey = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    switch (headerKind(name)) {
      case H_OTHER:
        break;
      case H_CONNECTION:
        named = connectionNamed(value, named);
        continue;
      case H_TRANSFER_ENCODING:
        chunked = true;
        continue;
      case H_EXPECT:
        expect = value;
        continue;
      case H_KEEP_ALIVE:
      case H_HOP:
        continue;
      case H_HOST:
        hosts++;
        host ??= value;
        if (authority !== undefined) continue;
        break;
      case H_CONTENT_LENGTH:
        contentLength = Number(value);
        break;
      case H_IDEMPOTENCY_KEY:
        idempotencyKey = true;
        break;
      case H_X_FORWARDED_FOR:
        // A trusted peer's claims are merged into the lines forwardingTail writes; anyone else's are dropped.
        if (info.trusted) absorbForwarded('x-forwarded-for', value, fwd);
        continue;
      case H_X_FORWARDED_PROTO:
        if (info.trusted) absorbForwarded('x-forwarded-proto', value, fwd);
        continue;
      case H_X_FORWARDED_HOST:
        if (info.trusted) absorbForwarded('x-forwarded-host', value, fwd);
        continue;
      default:
        // The other forwarding claims (x-forwarded-port, forwarded, x-real-ip) are kept from a trusted peer only;
        // x-forwarded-client-cert is only ever this proxy's own (mesh/tls/identity.ts), even behind a trusted peer.
        if (!info.trusted || equalsLower(name, XFCC)) continue;
    }
    head += name + ': ' + value + '\r\n';
  }
  // Request smuggling defence in depth: llhttp already refused CL+TE, duplicate CL, obs-fold and bad chunking;
  // a second Host is the one ambiguity it lets through.
  if (hosts > 1) return { status: 400, code: 'bad-request', message: 'more than one Host header' };
  if (hosts === 0 && http11) return { status: 400, code: 'bad-request', message: 'missing Host header' };
  out.expectContinue = false;
  if (expect !== undefined && http11) {
    if (!CONTINUE_RE.test(expect)) return { status: 417, code: 'bad-request', message: `unsupported Expect: ${expect}` };
    out.expectContinue = true;
  }
  if (named !== undefined) head = dropNamedLines(head, named);
  if (authority !== undefined) {
    host = authority;
    head += 'host: ' + host + '\r\n';
  }
  head += forwardingTail(info, fwd, fwd.host ?? host, out);
  out.head = head;
  out.wire = head + '\r\n';
  out.needsHost = host === undefined;
  out.chunked = chunked;
  out.contentLength = chunked ? -1 : contentLength;
  out.replaySafe = isReplaySafe(method, idempotencyKey);
  out.memoMethod = method;
  out.memoUrl = url;
  out.memoHttp11 = http11;
  out.memoInfo = info;
  out.memoRaw = raw;
  return undefined;
}

/**
 * The X-Forwarded-For/Proto/Host and Via lines. Without a trusted peer's own values they depend only on the
 * connection (client IP, scheme, via) and the Host, so a keep-alive connection's requests reuse the last ones built.
 */
function forwardingTail(info: ForwardingInfo, fwd: ForwardedSoFar, xfHost: string | undefined, out: PreparedRequest): string {
  const own = fwd.xff === undefined && fwd.proto === undefined && fwd.host === undefined;
  if (own && out.tailInfo === info && out.tailHost === xfHost) return out.tail;
  let tail = `x-forwarded-for: ${fwd.xff === undefined ? info.clientIp : `${fwd.xff}, ${info.clientIp}`}\r\nx-forwarded-proto: ${fwd.proto ?? info.proto}\r\n`;
  if (xfHost !== undefined) tail += `x-forwarded-host: ${xfHost}\r\n`;
  if (info.via !== undefined) tail += `via: 1.1 ${info.via}\r\n`;
  if (info.xfcc !== undefined) tail += `${XFCC}: ${info.xfcc}\r\n`;
  if (own) {
    out.tail = tail;
    out.tailInfo = info;
    out.tailHost = xfHost;
  }
  return tail;
}
