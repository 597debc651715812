// The metrics endpoint: GET /metrics on a loopback HTTP port (CMESH_METRICS_ADDR, default 127.0.0.1:9464, `off`).
// A bind failure never stops the daemon: it runs without metrics and says so.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DaemonMetrics } from './metrics.ts';

export const DEFAULT_METRICS_ADDR = '127.0.0.1:9464';

export type MetricsAddr = { host: string; port: number } | 'off';

/** `host:port`, `:port` (loopback), a bare port, or `off`; undefined means the default. Throws on anything else. */
export function parseMetricsAddr(text: string | undefined): MetricsAddr {
  const value = (text ?? DEFAULT_METRICS_ADDR).trim();
  if (value === 'off' || value === 'false' || value === '0') return 'off';
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new Error(`CMESH_METRICS_ADDR must be host:port, :port or off, not "${value}"`);
  return { host: m[1] || '127.0.0.1', port };
}

export interface MetricsEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(metrics: DaemonMetrics, addr: { host: string; port: number }): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    metrics.expose().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
