// The proxy's own answers: short plain-text bodies naming the service and the cause, tagged with `x-cmesh-error`.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { PoolSnapshot } from '../upstream-pool.ts';

/** Stable machine-readable causes, sent as `x-cmesh-error` so clients and tests can tell proxy errors from app ones. */
export type ProxyErrorCode =
  | 'no-healthy-replica'
  | 'upstream-connect-failed'
  | 'upstream-reset'
  | 'upstream-bad-response'
  | 'upstream-timeout'
  | 'retry-budget-exhausted'
  | 'bad-request'
  | 'method-not-allowed'
  | 'proxy-closing';

export interface ProxyError {
  status: number;
  code: ProxyErrorCode;
  message: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function noHealthyReplica(service: string, s: PoolSnapshot): ProxyError {
  const panic = s.panic ? ', panic mode' : '';
  const draining = s.draining > 0 ? `, ${s.draining} draining` : '';
  return {
    status: 503,
    code: 'no-healthy-replica',
    message: `no healthy replica for service "${service}" (${s.healthy}/${s.total} healthy${draining}${panic})`,
  };
}

/** Which replica failed and how, e.g. `replica web#2 (127.0.0.1:49152) refused the connection (ECONNREFUSED)`. */
export function upstreamFailure(service: string, replica: string, outcome: string, code: string | undefined, timeoutMs: number): ProxyError {
  const why = code === undefined ? '' : ` (${code})`;
  if (outcome === 'timeout') {
    return { status: 504, code: 'upstream-timeout', message: `replica ${replica} of service "${service}" did not answer within ${timeoutMs}ms${why}` };
  }
  if (outcome === 'connect-error') {
    return { status: 502, code: 'upstream-connect-failed', message: `could not connect to replica ${replica} of service "${service}"${why}` };
  }
  if (code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_') || code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_RESPONSE') {
    return { status: 502, code: 'upstream-bad-response', message: `replica ${replica} of service "${service}" sent an invalid response${why}` };
  }
  return { status: 502, code: 'upstream-reset', message: `replica ${replica} of service "${service}" closed the connection before answering${why}` };
}

function body(e: ProxyError): Buffer {
  return Buffer.from(`cmesh: ${e.message}\n`);
}

/**
 * Answers with the error unless headers already went out (then the client connection is cut, so a truncated body
 * can never look complete). `close` asks for Connection: close, e.g. when the request body was not fully read.
 */
export function sendProxyError(res: ServerResponse, e: ProxyError, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = body(e);
  if (close) res.shouldKeepAlive = false;
  res.writeHead(e.status, REASONS[e.status] ?? 'Error', {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': payload.length,
    'x-cmesh-error': e.code,
    'cache-control': 'no-store',
  });
  res.end(payload);
}

/** The same answer written raw on a socket (client errors before parsing finished, failed upgrades). */
export function writeRawError(socket: Socket, e: ProxyError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const payload = body(e);
  socket.end(
    `HTTP/1.1 ${e.status} ${REASONS[e.status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${payload.length}\r\nX-Cmesh-Error: ${e.code}\r\nConnection: close\r\n\r\n${payload.toString('latin1')}`,
  );
}
