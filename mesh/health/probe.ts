// One health probe against a replica's port: HTTP GET (2xx/3xx passes) or a bare TCP connect. No pooling, no leaks.

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

/** A request target without spaces, controls or non-ASCII: nothing that could end the request line early. */
const VISIBLE = /^[\x21-\x7e]+$/;
/** How much of a response is read looking for its final status line. */
const MAX_HEAD = 8192;

function requestHead(path: string, host: string, port: number): string {
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: cmesh-health/1\r\nConnection: close\r\nAccept: */*\r\n\r\n`;
}

/**
 * The final status code of the response read so far, 'more' while its status line is incomplete, 'bad' when it is not
 * HTTP's. Interim 1xx responses (103 Early Hints) are skipped up to their blank line, as node's client does.
 */
export function statusOf(head: string): number | 'more' | 'bad' {
  let at = 0;
  for (;;) {
    const eol = head.indexOf('\n', at);
    if (eol < 0) return head.length - at >= 12 && !STATUS.test(head.slice(at, at + 12)) ? 'bad' : 'more';
    const m = STATUS.exec(head.slice(at, eol));
    if (m === null) return 'bad';
    const code = Number(m[1]);
    if (code >= 200 || code === 101) return code;
    const end = head.indexOf('\r\n\r\n', at);
    if (end < 0) return 'more';
    at = end + 4;
  }
}
const STATUS = /^HTTP\/\d\.\d (\d{3})/;

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
    // Only the status line is read, as HAProxy's httpchk does: node's http client (ClientRequest, a parser from its
    // pool, IncomingMessage) took ~1.4× this CPU a probe (~1.8× the user time), paid once a second per replica
    // (bench/RESULTS.md, ctlplane). Headers after the status line are not parsed, so malformed ones do not fail it.
    if (!VISIBLE.test(path)) return finish({ ok: false, reason: 'invalid path' });
    const sock = net.connect({ host: req.host, port: req.port });
    destroy = () => sock.destroy();
    sock.setEncoding('latin1');
    let head = '';
    sock.once('connect', () => sock.write(requestHead(path, req.host, req.port)));
    sock.on('data', (chunk: string) => {
      head += chunk;
      const status = statusOf(head);
      if (status === 'more' && head.length <= MAX_HEAD) return;
      if (typeof status === 'number') finish({ ok: status >= 200 && status < 400, reason: `http ${status}` });
      else finish({ ok: false, reason: 'bad response' });
    });
    // Closed before a status line: what node's client calls a hang-up.
    sock.once('end', () => finish({ ok: false, reason: 'ECONNRESET' }));
    sock.once('error', (err) => finish({ ok: false, reason: errorReason(err) }));
  });
}
