// A replica's response head turned into the client's: status line and end-to-end fields staged for the client, plus the
// framing facts the client connection needs to decide between Content-Length, re-chunking and close-delimiting.

import { connectionNamed } from './forwarded-headers.ts';
import { H_CONNECTION, H_CONTENT_LENGTH, H_KEEP_ALIVE, H_OTHER, H_TRANSFER_ENCODING, headerKind, isHopByHop } from './header-names.ts';

export interface ResponseFacts {
  contentLength: boolean;
  chunked: boolean;
  /** Seconds from a `Keep-Alive: timeout=N` hint, or -1. */
  keepAliveTimeout: number;
}

export function newResponseFacts(): ResponseFacts {
  return { contentLength: false, chunked: false, keepAliveTimeout: -1 };
}

/** Where a head is staged piece by piece (ResponseWriter; a string for tests). */
export interface HeadSink {
  stage(s: string): void;
}

/**
 * Stages the client response head without its blank line (the caller adds framing and Connection), as the pieces
 * the parser already made (name, value) and constant separators: no string is built per field. Hop-by-hop fields
 * and the ones Connection names are dropped; `facts` is reset and filled.
 */
export function stageResponseHead(out: HeadSink, status: number, reason: string, raw: readonly string[], facts: ResponseFacts): void {
  facts.contentLength = false;
  facts.chunked = false;
  facts.keepAliveTimeout = -1;
  let named: Set<string> | undefined;
  // First pass: framing facts and the fields a Connection header names (which must not be staged at all).
  for (let i = 0; i < raw.length; i += 2) {
    const kind = headerKind(raw[i]!);
    if (kind === H_OTHER) continue;
    const value = raw[i + 1]!;
    if (kind === H_CONTENT_LENGTH) facts.contentLength = true;
    else if (kind === H_CONNECTION) named = connectionNamed(value, named);
    else if (kind === H_TRANSFER_ENCODING) facts.chunked = true;
    else if (kind === H_KEEP_ALIVE) facts.keepAliveTimeout = keepAliveHint(value);
  }
  out.stage('HTTP/1.1 ');
  out.stage(statusText(status));
  out.stage(' ');
  out.stage(reason);
  out.stage('\r\n');
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Forwarding and request-only names pass in a response.
    if (isHopByHop(headerKind(name))) continue;
    if (named?.has(name.toLowerCase())) continue;
    out.stage(name);
    out.stage(': ');
    out.stage(raw[i + 1]!);
    out.stage('\r\n');
  }
}

/** The head as one string (tests and diagnostics; the proxy stages it into its ResponseWriter). */
export function clientResponseHead(status: number, reason: string, raw: readonly string[], facts: ResponseFacts): string {
  let head = '';
  stageResponseHead({ stage: (s) => (head += s) }, status, reason, raw, facts);
  return head;
}

const STATUS_TEXT: string[] = [];

/** `String(status)`, made once per status code. */
function statusText(status: number): string {
  if (status < 0 || status > 999) return String(status);
  let s = STATUS_TEXT[status];
  if (s === undefined) {
    s = String(status);
    STATUS_TEXT[status] = s;
  }
  return s;
}

/** A replica repeats the same hint on every response: the last one read is remembered. */
let lastHint = '';
let lastHintSeconds = -1;

/** `timeout=5, max=100` → 5; anything unreadable → -1. */
export function keepAliveHint(value: string): number {
  if (value === lastHint) return lastHintSeconds;
  const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(value);
  lastHint = value;
  lastHintSeconds = m === null ? -1 : Number(m[1]);
  return lastHintSeconds;
}
