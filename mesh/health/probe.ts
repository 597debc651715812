// One health probe against a loopback port: HTTP GET (2xx/3xx passes) or a bare TCP connect. No pooling, no leaks.

import http from 'node:http';
import net from 'node:net';

export interface ProbeResult {
  ok: boolean;
  /** Short human reason: `http 200`, `timeout after 1000ms`, `ECONNREFUSED`. */
  reason: string;
}

export interface ProbeRequest {
  host: string;
  port: number;
  /** HTTP path; undefined = TCP connect probe. */
  path?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

function errorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
}

/**
 * Runs one probe. Every path ends by destroying the socket: probes never keep connections alive, so a daemon
 * probing hundreds of replicas each second holds at most one short-lived socket per replica.
 */
export function probeOnce(req: ProbeRequest): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    let destroy: () => void = () => {};
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      destroy();
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, reason: `timeout after ${req.timeoutMs}ms` }), req.timeoutMs);
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });

    if (req.path === undefined) {
      const sock = net.connect({ host: req.host, port: req.port });
      destroy = () => sock.destroy();
      sock.once('connect', () => finish({ ok: true, reason: 'tcp connect' }));
      sock.once('error', (err) => finish({ ok: false, reason: errorReason(err) }));
      return;
    }

    const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
    // agent:false = a fresh connection closed after the answer; a shared keep-alive agent would pin sockets.
    const r = http.request({
      host: req.host,
      port: req.port,
      path,
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'cmesh-health/1', connection: 'close', accept: '*/*' },
    });
    destroy = () => r.destroy();
    r.once('response', (res) => {
      const code = res.statusCode ?? 0;
      // The body is irrelevant; drop it and let finish() destroy the socket.
      res.resume();
      finish({ ok: code >= 200 && code < 400, reason: `http ${code}` });
    });
    r.once('error', (err) => finish({ ok: false, reason: errorReason(err) }));
    r.end();
  });
}
