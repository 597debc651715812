// The proxy's own answers: short plain-text bodies naming the service and the cause, tagged with `x-cmesh-error`.

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
  | 'proxy-closing'
  | 'overflow';

export interface ProxyError {
  status: number;
  code: ProxyErrorCode;
  message: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `circuit_breaker.max_connections` of the target service reached and no idle connection to reuse. */
export function connectionOverflow(service: string): ProxyError {
  return { status: 503, code: 'overflow', message: `circuit breaker of service "${service}" is open (connections limit reached)` };
}

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
  if (code?.startsWith('HPE_')) {
    return { status: 502, code: 'upstream-bad-response', message: `replica ${replica} of service "${service}" sent an invalid response${why}` };
  }
  return { status: 502, code: 'upstream-reset', message: `replica ${replica} of service "${service}" closed the connection before answering${why}` };
}

/**
 * The whole answer as one latin1 string (the message is ASCII). `close` adds Connection: close, e.g. when the request
 * body was not fully read or the client's framing cannot be trusted.
 */
export function errorResponse(e: ProxyError, close: boolean): string {
  const payload = `cmesh: ${e.message}\n`;
  return (
    `HTTP/1.1 ${e.status} ${REASONS[e.status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\nX-Cmesh-Error: ${e.code}\r\nCache-Control: no-store\r\n` +
    `${close ? 'Connection: close\r\n' : ''}\r\n${Buffer.from(payload).toString('latin1')}`
  );
}

/** The same answer written on a raw socket that then closes (failed upgrades, refused connections). */
export function writeRawError(socket: Socket, e: ProxyError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(errorResponse(e, true), 'latin1');
}
