// A replica's response head turned into the client's: status line and end-to-end fields in one string, plus the
// framing facts the client connection needs to decide between Content-Length, re-chunking and close-delimiting; kept
// per replica connection and reused while the replica repeats the same head (HeadMemo).

import { connectionNamed, dropNamedLines } from './forwarded-headers.ts';
import { H_CONNECTION, H_CONTENT_LENGTH, H_KEEP_ALIVE, H_OTHER, H_TRANSFER_ENCODING, headerKind, isHopByHop, sameFields } from './header-names.ts';

export interface ResponseFacts {
  contentLength: boolean;
  chunked: boolean;
  /** Seconds from a `Keep-Alive: timeout=N` hint, or -1. */
  keepAliveTimeout: number;
}

export function newResponseFacts(): ResponseFacts {
  return { contentLength: false, chunked: false, keepAliveTimeout: -1 };
}

/**
 * The client response head without its blank line (the caller adds framing and Connection). Hop-by-hop fields and
 * the ones Connection names are dropped; `facts` is reset and filled.
 */
export function clientResponseHead(status: number, reason: string, raw: readonly string[], facts: ResponseFacts): string {
  facts.contentLength = false;
  facts.chunked = false;
  facts.keepAliveTimeout = -1;
  let named: Set<string> | undefined;
  // `+`, not template literals: see request-head.ts.
  let head = statusLine(status, reason);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const kind = headerKind(name);
    if (kind !== H_OTHER) {
      if (kind === H_CONTENT_LENGTH) facts.contentLength = true;
      else if (kind === H_CONNECTION) named = connectionNamed(value, named);
      else if (kind === H_TRANSFER_ENCODING) facts.chunked = true;
      else if (kind === H_KEEP_ALIVE) facts.keepAliveTimeout = keepAliveHint(value);
      // Forwarding and request-only names pass in a response.
      if (isHopByHop(kind)) continue;
    }
    head += name + ': ' + value + '\r\n';
  }
  return named === undefined ? head : dropNamedLines(head, named);
}

/**
 * The last head one replica connection sent and what it became. A replica answers with the same fields response
 * after response (its Date changes once a second): when status, reason and every name and value are equal to the
 * last head's, the head built then (flat by now: it was written) and its facts are reused, which costs 2 × fields
 * string compares instead of classifying and concatenating each field again (bench/RESULTS.md "cpucut").
 */
export interface HeadMemo {
  status: number;
  reason: string;
  /** The replica's fields as the parser handed them over (the array is kept, not copied). */
  raw: readonly string[] | undefined;
  head: string;
  contentLength: boolean;
  chunked: boolean;
  keepAliveTimeout: number;
  /** Heads built (misses), for tests. */
  builds: number;
  /** The head with the client's framing and Connection lines (`trailer`), as last staged, and the head it was made of. */
  full: string;
  fullOf: string;
  trailer: string;
}

export function newHeadMemo(): HeadMemo {
  return { status: 0, reason: '', raw: undefined, head: '', contentLength: false, chunked: false, keepAliveTimeout: -1, builds: 0, full: '', fullOf: '', trailer: '' };
}

/** clientResponseHead through `memo`: the same result, built only when the head differs from the memo's. */
export function memoResponseHead(status: number, reason: string, raw: readonly string[], facts: ResponseFacts, memo: HeadMemo): string {
  const last = memo.raw;
  if (last !== undefined && status === memo.status && reason === memo.reason && sameFields(raw, last)) {
    facts.contentLength = memo.contentLength;
    facts.chunked = memo.chunked;
    facts.keepAliveTimeout = memo.keepAliveTimeout;
    return memo.head;
  }
  const head = clientResponseHead(status, reason, raw, facts);
  memo.builds++;
  memo.status = status;
  memo.reason = reason;
  memo.raw = raw;
  memo.head = head;
  memo.contentLength = facts.contentLength;
  memo.chunked = facts.chunked;
  memo.keepAliveTimeout = facts.keepAliveTimeout;
  return head;
}

/**
 * `head + trailer`, kept in `memo` while both are the same (the trailer is one of the client connection's constant
 * strings): one staged piece, flat after its first write, instead of a new string to flatten per response.
 */
export function headWithTrailer(memo: HeadMemo, head: string, trailer: string): string {
  if (memo.fullOf !== head || memo.trailer !== trailer) {
    memo.full = head + trailer;
    memo.fullOf = head;
    memo.trailer = trailer;
  }
  return memo.full;
}

/** A replica answers the same status line response after response: the last one built is kept (flat, reused). */
let lastStatus = -1;
let lastReason = '';
let lastLine = '';

/** `HTTP/1.1 <status> <reason>` and its line end. */
export function statusLine(status: number, reason: string): string {
  if (status !== lastStatus || reason !== lastReason) {
    lastStatus = status;
    lastReason = reason;
    lastLine = 'HTTP/1.1 ' + status + ' ' + reason + '\r\n';
  }
  return lastLine;
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
