// The gateway's readiness report: a service counts as served once a listener is bound for each of its ports (what
// depends_on gates on a meshed service wait for); one whose port cannot be bound is not, nor one held (holdListeners).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayService, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { Gateway } from './gateway.ts';

const abort = new AbortController();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  abort.abort();
  for (const c of closers) await c();
});

async function listening(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

const service = (name: string, ports: number[]): GatewayService => ({
  name,
  names: [name],
  ports: ports.map((port) => ({ port, protocol: 'tcp' as const })),
  mesh: {
    lb: 'round-robin',
    protocol: 'tcp',
    weights: [],
    weight: 1,
    health: { intervalMs: 1000, timeoutMs: 200, rise: 1, fall: 2, port: ports[0]! },
    retries: 0,
    timeouts: { connectMs: 500, requestMs: 2000, idleMs: 60_000 },
    accessLog: false,
    healthExplicit: false,
  },
  desired: 1,
  replicas: [],
});

test('serving(): services with every port bound; none before a table, not one whose port is taken', async () => {
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2' });
  closers.unshift(() => gateway.close());
  assert.deepEqual(gateway.serving(), []);
  // Free ports for db (two of them) and web; cache's port is held by another server, so it cannot be bound.
  const [a, b, c, taken] = await Promise.all([listening(), listening(), listening(), listening()]);
  closers.push(taken.close);
  await Promise.all([a.close(), b.close(), c.close()]);
  const table: GatewayTable = {
    type: 'table',
    version: GATEWAY_PROTOCOL_VERSION,
    project: 'p',
    services: [service('db', [a.port, b.port]), service('web', [c.port]), service('cache', [taken.port])],
  };
  await gateway.apply(table);
  assert.deepEqual(gateway.serving().sort(), ['db', 'web']);
  assert.ok(gateway.warnings().some((w) => w.includes(`port ${taken.port}`)));
  // The answer is true: the served port is bound (another server cannot take it).
  const probe = net.createServer();
  await assert.rejects(new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(c.port, '127.0.0.1', resolve);
  }), /EADDRINUSE/);
});

test('holdListeners: pools follow the table but no port is bound (nor served) until listen()', async () => {
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2', holdListeners: true });
  closers.unshift(() => gateway.close());
  const free = await listening();
  await free.close();
  await gateway.apply({ type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services: [service('web', [free.port])] });
  const connect = (): Promise<string> =>
    new Promise((resolve) => {
      const s = net.connect(free.port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  assert.deepEqual(gateway.rows().map((r) => r.service), ['web'], 'the pool is there');
  assert.deepEqual(gateway.serving(), []);
  assert.equal(await connect(), 'ECONNREFUSED');
  await gateway.listen();
  assert.deepEqual(gateway.serving(), ['web']);
  // Accepted now (the proxy may reset it at once: web has no replica).
  assert.notEqual(await connect(), 'ECONNREFUSED');
});
