// An HTTP/2 stream forwarded to an HTTP/1.1 replica over the proxy's own keep-alive pools (UpstreamClients): the same
// connections, connect timeout and idle expiry as HTTP/1.1 requests, so an h2 front adds no second pool per replica.
// Pseudo-headers become the request line and Host (request-headers.ts); H1Call does the framing both ways.

import { codedError } from '../proxy/attempt-owner.ts';
import { POOL_CLOSED } from '../proxy/retry.ts';
import type { UpstreamClients } from '../proxy/upstream-client.ts';
import type { Upstream } from '../upstream-pool.ts';
import type { CallRequest, CallSink, Dialer, UpstreamCall } from './call.ts';
import { type CallTimeouts, H1Call, h1RequestHead } from './h1-call.ts';

export class H1Dialer implements Dialer {
  readonly #clients: UpstreamClients;
  readonly #timeouts: CallTimeouts;

  constructor(clients: UpstreamClients, timeouts: CallTimeouts) {
    this.#clients = clients;
    this.#timeouts = timeouts;
  }

  dial(up: Upstream, req: CallRequest, sink: CallSink): UpstreamCall {
    const call = new H1Call(req, h1RequestHead(req), sink, this.#timeouts);
    const pool = this.#clients.get(up);
    if (pool === undefined) {
      // Heard after dial returns: the stream's attempt is in place to decide what follows.
      queueMicrotask(() => call.upstreamFailed(codedError('the proxy is closed', POOL_CLOSED)));
      return call;
    }
    call.start(pool);
    return call;
  }

  /** The pools are the proxy's (HTTP/1.1 and h2 alike): it closes them when a replica leaves or on close. */
  closeUpstream(_id: string): void {}

  close(_force: boolean): void {}
}
