// A parsed client request turned into the upstream request head (one string, one pass over the raw headers), with
// the checks llhttp leaves to us: target form, Host, Expect, and how the body is framed.

import type { ProxyError } from './error-responses.ts';
import { FORWARDING, type ForwardingInfo, HOP_BY_HOP, absorbForwarded, connectionNamed, dropNamedLines, newForwardedSoFar } from './forwarded-headers.ts';
import { XFCC } from '../tls/identity.ts';
import { parseTarget } from './request-target.ts';
import { isReplaySafe } from './retry.ts';

const FWD = newForwardedSoFar();

const CONTINUE_RE = /^100-continue$/i;

/** What prepareRequest found; one object per client connection, overwritten for each request. */
export interface PreparedRequest {
  /** The upstream head up to and without its blank line (each attempt adds body framing). */
  head: string;
  /** The client sent no Host (HTTP/1.0): attempts name the replica instead. */
  needsHost: boolean;
  /** The body comes chunked (re-framed upstream), or with this Content-Length (-1 = no body). */
  chunked: boolean;
  contentLength: number;
  /** `Expect: 100-continue` on HTTP/1.1: the proxy answers it before reading the body. */
  expectContinue: boolean;
  replaySafe: boolean;
}

export function newPreparedRequest(): PreparedRequest {
  return { head: '', needsHost: false, chunked: false, contentLength: -1, expectContinue: false, replaySafe: true };
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
  const target = parseTarget(url);
  if (typeof target === 'string') return { status: 400, code: 'bad-request', message: target };
  let named: Set<string> | undefined;
  let head = `${method} ${target.path} HTTP/1.1\r\n`;
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
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') named = connectionNamed(value, named);
      else if (lower === 'transfer-encoding') chunked = true;
      else if (lower === 'expect') expect = value;
      continue;
    }
    if (lower === 'host') {
      hosts++;
      host ??= value;
      if (target.host !== undefined) continue;
    } else if (lower === 'content-length') {
      contentLength = Number(value);
    } else if (lower === 'idempotency-key' || lower === 'x-idempotency-key') {
      idempotencyKey = true;
    } else if (FORWARDING.has(lower)) {
      // x-forwarded-client-cert is only ever this proxy's own (mesh/tls/identity.ts), even behind a trusted peer.
      if (lower === XFCC || !info.trusted || absorbForwarded(lower, value, fwd)) continue;
    }
    head += `${name}: ${value}\r\n`;
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
  if (target.host !== undefined) {
    host = target.host;
    head += `host: ${host}\r\n`;
  }
  head += `x-forwarded-for: ${fwd.xff === undefined ? info.clientIp : `${fwd.xff}, ${info.clientIp}`}\r\nx-forwarded-proto: ${fwd.proto ?? info.proto}\r\n`;
  if (fwd.host !== undefined || host !== undefined) head += `x-forwarded-host: ${fwd.host ?? host}\r\n`;
  if (info.via !== undefined) head += `via: 1.1 ${info.via}\r\n`;
  if (info.xfcc !== undefined) head += `${XFCC}: ${info.xfcc}\r\n`;
  out.head = head;
  out.needsHost = host === undefined;
  out.chunked = chunked;
  out.contentLength = chunked ? -1 : contentLength;
  out.replaySafe = isReplaySafe(method, idempotencyKey);
  return undefined;
}
