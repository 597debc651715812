// CI smoke probes through the mesh: HTTP GET / (any non-5xx passes) or a TCP connect, on each published port.
// `x-cmesh.tls` ports get the same GET over HTTPS (cli/ci/tls-probe.ts).

import net from 'node:net';
import type { ServiceTableRow } from '../../daemon/api/control.ts';

export interface ProbeResult {
  service: string;
  target: string;
  ok: boolean;
  /** `GET / → 200`, `connected`, or the failure (`503`, `ECONNREFUSED`, `timeout`). */
  detail: string;
}

/** Where a client on this host reaches a published port: wildcard binds are reached over loopback. */
export function probeHost(hostIp: string): string {
  if (hostIp === '' || hostIp === '0.0.0.0') return '127.0.0.1';
  if (hostIp === '::') return '::1';
  return hostIp;
}

/** The final status of a response head read so far: undefined until its status line is in, NaN when it is not HTTP. */
function finalStatus(head: string): { status?: number; rest: string } {
  let rest = head;
  for (;;) {
    const line = rest.indexOf('\r\n');
    if (line < 0) return { rest };
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(rest.slice(0, line));
    if (!m) return { status: Number.NaN, rest };
    const status = Number(m[1]);
    if (status >= 200) return { status, rest };
    // An interim 1xx: its head ends with an empty line, then the real answer follows.
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { rest };
    rest = rest.slice(end + 4);
  }
}

/**
 * GET / on a connection of its own, closed as soon as the status line is in (any non-5xx passes; redirects are not
 * followed). Not fetch: undici's load costs the CLI ~15 ms, and its kept-alive connection held the CLI's exit
 * 70–300 ms after the verdict was printed.
 */
function httpProbe(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let head = '';
    const done = (ok: boolean, detail: string): void => {
      socket.destroy();
      resolve({ ok, detail: `GET / → ${detail}` });
    };
    socket.setTimeout(timeoutMs, () => done(false, `timeout after ${timeoutMs} ms`));
    socket.setEncoding('latin1');
    socket.once('connect', () => {
      const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      socket.write(`GET / HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: cmesh-smoke\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: string) => {
      const { status, rest } = finalStatus(head + chunk);
      head = rest;
      if (status === undefined) {
        if (head.length > 16_384) done(false, 'no HTTP status line in the first 16 KiB');
      } else if (Number.isNaN(status)) done(false, 'not an HTTP response');
      else done(status < 500, String(status));
    });
    socket.once('end', () => done(false, 'closed without a response'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message));
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean, detail: string): void => {
      socket.destroy();
      resolve({ ok, detail });
    };
    socket.setTimeout(timeoutMs, () => done(false, `connect → timeout after ${timeoutMs} ms`));
    socket.once('connect', () => done(true, 'connect → ok'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(false, `connect → ${err.code ?? err.message}`));
  });
}

/** One probe per published port of the service; a service without published ports has nothing to probe. */
export async function probeService(row: ServiceTableRow, timeoutMs = 2000): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (const p of row.publishedPorts) {
    if (p.protocol !== 'tcp') continue;
    const host = probeHost(p.hostIp);
    const scheme = row.protocol === 'tcp' ? 'tcp' : row.tls === undefined ? 'http' : 'https';
    const target = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${p.published}`;
    const r =
      scheme === 'tcp'
        ? await tcpProbe(host, p.published, timeoutMs)
        : scheme === 'https'
          ? // node:https and node:tls (~3 ms to load) only when a port speaks TLS.
            await (await import('./tls-probe.ts')).httpsProbe(host, p.published, row.tls?.clientAuth === 'require', timeoutMs)
          : await httpProbe(host, p.published, timeoutMs);
    out.push({ service: row.service, target, ...r });
  }
  return out;
}
