// The client connection as the request it carries sees it: the interface through which an Exchange, its attempts
// and its body talk back to their ClientConnection (kept apart so those modules need not import the connection).

import type { ProxyContext } from './context.ts';
import type { ProxyError } from './error-responses.ts';
import type { BodyFlow } from './request-body.ts';
import type { HeadMemo, ResponseFacts } from './response-head.ts';
import type { ResponseWriter } from './response-writer.ts';

/** The request being answered, as the client connection updates it (Exchange). */
export interface ExchangeView {
  readonly isHead: boolean;
  /** The response head is staged or written. */
  headSent: boolean;
  status: number;
  /** `at`: performance.now() if the caller read it in this same callback (-1 or absent: the exchange reads it). */
  responseComplete(at?: number): void;
  /** Settles accounting and logs, once. */
  closed(): void;
  /** performance.now() when `closed` settled it (-1 before). */
  readonly closedAt: number;
}

export interface ClientSide extends BodyFlow {
  readonly ctx: ProxyContext;
  readonly clientIp: string;
  /** Subject of the verified client certificate on a TLS listener, for the access log. */
  readonly clientCert: string | undefined;
  /** Response bytes staged for the client and written once per replica read. */
  readonly out: ResponseWriter;
  /** Framing facts of the last response head staged by `responseHead`. */
  readonly responseFacts: ResponseFacts;
  /** Stages the client response head; returns true when the body must be re-chunked. `memo`: the replica connection's. */
  responseHead(ex: ExchangeView, status: number, reason: string, headers: string[], memo: HeadMemo | undefined): boolean;
  /** The proxy's own answer for the current exchange. */
  sendError(ex: ExchangeView, e: ProxyError): void;
  /** A whole answer the policy wrote (redirect, 429, injected fault, overflow); `close` says whether it closes. */
  sendAnswer(ex: ExchangeView, status: number, render: (close: boolean) => string): void;
  /** The exchange's response is complete. */
  exchangeDone(ex: ExchangeView): void;
  destroy(): void;
}
