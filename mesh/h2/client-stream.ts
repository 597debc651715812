// The client side of a StreamExchange: an HTTP/2 stream, or an HTTP/1.1 request/response pair (a service whose
// replicas speak only h2c still serves HTTP/1.1 clients, through node's http server). Both answer the same few calls.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type OutgoingHttpHeaders, type ServerHttp2Stream, constants } from 'node:http2';

export interface ClientStream {
  /** The request body as it arrives, then its end. */
  onBody(data: (chunk: Buffer) => void, end: () => void): void;
  /** The client side closed: after the response, or before it (the client went away). */
  onClose(closed: () => void): void;
  /** A response body chunk; false = buffered over the high-water mark, `drained` is called once it is written out. */
  write(chunk: Buffer, drained: () => void): boolean;
  respond(status: number, headers: OutgoingHttpHeaders): void;
  /** Ends the response, with trailers when there are any. */
  finish(trailers: OutgoingHttpHeaders | undefined): void;
  /** Cuts the response visibly (RST_STREAM, or a closed HTTP/1.1 connection). */
  reset(): void;
  readonly gone: boolean;
}

export function h2Client(st: ServerHttp2Stream): ClientStream {
  return {
    onBody(data, end) {
      st.on('data', data);
      st.on('end', end);
      st.on('error', () => {});
    },
    onClose: (closed) => st.on('close', closed),
    write(chunk, drained) {
      const ok = st.write(chunk);
      if (!ok) st.once('drain', drained);
      return ok;
    },
    respond: (status, headers) => st.respond({ ...headers, ':status': status }, { waitForTrailers: true }),
    finish(trailers) {
      // Empty trailers end the stream with an empty DATA frame (node's rule), so every response ends the same way.
      st.once('wantTrailers', () => st.sendTrailers(trailers ?? {}));
      st.end();
    },
    reset: () => st.close(constants.NGHTTP2_INTERNAL_ERROR),
    get gone() {
      return st.destroyed;
    },
  };
}

/** `closeAfter` says whether the response closes its connection (the listener drains). */
export function h1Client(req: IncomingMessage, res: ServerResponse, closeAfter: () => boolean): ClientStream {
  return {
    onBody(data, end) {
      req.on('data', data);
      req.on('end', end);
      req.on('error', () => {});
    },
    onClose: (closed) => res.on('close', closed),
    write(chunk, drained) {
      const ok = res.write(chunk);
      if (!ok) res.once('drain', drained);
      return ok;
    },
    respond(status, headers) {
      if (closeAfter()) res.shouldKeepAlive = false;
      // HTTP/1.1 carries trailers only in a chunked body: a gRPC replica's trailers are announced like this.
      if (headers['content-length'] === undefined && headers['content-type']?.toString().startsWith('application/grpc')) headers.trailer = 'grpc-status, grpc-message';
      res.writeHead(status, headers);
    },
    finish(trailers) {
      if (trailers !== undefined && res.chunkedEncoding) res.addTrailers(trailers as Record<string, string>);
      res.end();
    },
    reset: () => res.destroy(),
    get gone() {
      return res.destroyed;
    },
  };
}
