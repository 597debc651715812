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

async function httpProbe(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const h = host.includes(':') ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${h}:${port}/`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    return { ok: res.status < 500, detail: `GET / → ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const name = (err as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (cause?.code ?? (err as Error).message);
    return { ok: false, detail: `GET / → ${name}` };
  }
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
