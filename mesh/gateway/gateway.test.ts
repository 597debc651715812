// The gateway's data path without Docker: replicas are servers on 127.0.0.2/127.0.0.3 (same port, like containers),
// the gateway listens on 127.0.0.1. HTTP per request, two services on one port told apart by Host, TCP per connection.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayService, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { Gateway } from './gateway.ts';
import { hostOf } from './host-dispatch.ts';
import { freePort } from '../../test/helpers/free-port.ts';

const abort = new AbortController();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  abort.abort();
  for (const c of closers) await c();
});

async function httpReplica(host: string, port: number, name: string): Promise<void> {
  const server = http.createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : `${name}@${host}`));
  await new Promise<void>((r) => server.listen(port, host, r));
  closers.push(() => new Promise((r) => server.close(() => r())));
}

async function greeter(host: string, port: number): Promise<void> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(`HELLO ${host}\n`);
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  closers.push(() => new Promise((r) => server.close(() => r())));
}

const mesh = (protocol: 'http' | 'tcp', port: number, path?: string): GatewayService['mesh'] => ({
  lb: 'round-robin',
  protocol,
  weights: [],
  weight: 1,
  health: { intervalMs: 100, timeoutMs: 200, rise: 1, fall: 2, port, ...(path ? { path } : {}) },
  retries: 2,
  timeouts: { connectMs: 500, requestMs: 2000, idleMs: 60_000 },
  accessLog: false,
  healthExplicit: true,
});

const replicas = (service: string) =>
  ['2', '3'].map((n, i) => ({ id: `${service}#${i + 1}`, replica: i + 1, container: `${service === 'web' ? 'a' : service === 'api' ? 'b' : 'c'}${n}`.padEnd(12, '0'), state: 'running' as const, draining: false }));

function get(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { host: `${host}:${port}` }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', reject);
  });
}

/** A raw request whose client half-closes right after it (`printf … | nc`): all it reads until the gateway closes. */
function halfClosedGet(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(head));
    const timer = setTimeout(() => reject(new Error(`no close within 3 s; read ${JSON.stringify(got)}`)), 3000);
    s.on('data', (d) => (got += d));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

test('hostOf: Host without port, lowercase; undefined until the head is complete', () => {
  assert.equal(hostOf('GET / HTTP/1.1\r\nHost: API:3000\r\n\r\n'), 'api');
  assert.equal(hostOf('GET / HTTP/1.1\r\nhost: [::1]:80\r\n\r\n'), '[::1]');
  assert.equal(hostOf('GET / HTTP/1.1\r\nHost: web'), undefined);
  assert.equal(hostOf('GET / HTTP/1.1\r\nX: y\r\n\r\n'), '');
});

test('gateway: per-request balancing, Host-shared port, per-connection TCP', async () => {
  const shared = await freePort();
  const tcp = await freePort();
  for (const h of ['127.0.0.2', '127.0.0.3']) {
    await httpReplica(h, shared, h === '127.0.0.2' ? 'x' : 'x');
  }
  await greeter('127.0.0.2', tcp);
  await greeter('127.0.0.3', tcp);
  // web and api share `shared` on different addresses: api's replicas are web's too here, told apart by the body.
  const address = (container: string): string => (container.endsWith('2'.padEnd(11, '0')) ? '127.0.0.2' : '127.0.0.3');
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async (c) => address(c) });
  closers.unshift(() => gateway.close());
  const table: GatewayTable = {
    type: 'table',
    version: GATEWAY_PROTOCOL_VERSION,
    project: 'p',
    services: [
      { name: 'web', names: ['web'], ports: [{ port: shared, protocol: 'http' }], mesh: mesh('http', shared, '/healthz'), desired: 2, replicas: replicas('web') },
      { name: 'api', names: ['api', 'api.internal'], ports: [{ port: shared, protocol: 'http' }], mesh: mesh('http', shared, '/healthz'), desired: 2, replicas: replicas('api') },
      { name: 'db', names: ['db'], ports: [{ port: tcp, protocol: 'tcp' }], mesh: mesh('tcp', tcp), desired: 2, replicas: replicas('db') },
    ],
  };
  await gateway.apply(table);
  const deadline = Date.now() + 5000;
  while (gateway.rows().some((r) => r.ready < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(gateway.rows().map((r) => [r.service, r.ready]), [['api', 2], ['db', 2], ['web', 2]]);
  const answers = await Promise.all(Array.from({ length: 6 }, () => get(shared, 'web')));

  assert.ok(answers.every((a) => a.startsWith('200 ')), answers.join('|'));
  const apiAnswers = await Promise.all(Array.from({ length: 4 }, () => get(shared, 'api.internal')));
  assert.ok(apiAnswers.every((a) => a.startsWith('200 ')), apiAnswers.join('|'));
  assert.match(await get(shared, 'nobody'), /^421 /);
  // The Host-shared port hands a half-closed connection to the service's proxy, which answers it, then closes; a head
  // cut short by the FIN is closed at once (not left to the head timeout).
  assert.match(await halfClosedGet(shared, 'GET / HTTP/1.1\r\nHost: web\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nx@127\.0\.0\.[23]$/);
  assert.equal(await halfClosedGet(shared, 'GET / HTTP/1.1\r\nHost: we'), '');
  const rows = Object.fromEntries(gateway.rows().map((r) => [r.service, r.replicas.reduce((n, x) => n + x.requests, 0)]));
  assert.equal(rows['web'], 7);
  assert.equal(rows['api'], 4);
  const greetings = new Set<string>();
  for (let i = 0; i < 4; i++) {
    greetings.add(
      await new Promise<string>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: tcp });
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('end', () => resolve(got.trim()));
        s.on('error', reject);
      }),
    );
  }
  assert.deepEqual([...greetings].sort(), ['HELLO 127.0.0.2', 'HELLO 127.0.0.3']);
});

test('a starting gateway trusts the daemon\'s healthy replicas at once; its own probes still take a failing one out', async () => {
  const port = await freePort();
  await httpReplica('127.0.0.2', port, 'up');
  // 127.0.0.3 has no server on `port`: the daemon says healthy (stale), the gateway's probes must disagree.
  const local = new AbortController();
  const gateway = new Gateway({ signal: local.signal, host: '127.0.0.1', resolve: async (c) => (c.startsWith('d2') ? '127.0.0.2' : '127.0.0.3') });
  const replicas = ['d2', 'd3'].map((c, i) => ({ id: `svc#${i + 1}`, replica: i + 1, container: c.padEnd(12, '0'), state: 'running' as const, draining: false, healthy: true }));
  const t: GatewayTable = {
    type: 'table',
    version: GATEWAY_PROTOCOL_VERSION,
    project: 'seed',
    services: [{ name: 'svc', names: ['svc'], ports: [{ port, protocol: 'http' }], mesh: mesh('http', port, '/healthz'), desired: 2, replicas }],
  };
  try {
    await gateway.apply(t);
    // No probe has run yet: both are routable on the daemon's word.
    assert.deepEqual(gateway.rows()[0]!.replicas.map((r) => r.routable), [true, true]);
    const deadline = Date.now() + 3000;
    while (gateway.rows()[0]!.replicas[1]!.routable && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(gateway.rows()[0]!.replicas.map((r) => [r.routable, r.health.active]), [[true, 'healthy'], [false, 'unhealthy']]);
    assert.match(await get(port, 'svc'), /^200 up@127\.0\.0\.2/);
  } finally {
    local.abort();
    await gateway.close();
  }
});

test('draining (a successor serves): HTTP answers carry Connection: close, on listeners bound before and after', async () => {
  const [first, later] = [await freePort(), await freePort()];
  await httpReplica('127.0.0.2', first, 'a');
  await httpReplica('127.0.0.2', later, 'b');
  const local = new AbortController();
  const gateway = new Gateway({ signal: local.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2' });
  const svc = (name: string, port: number): GatewayService => ({
    name,
    names: [name],
    ports: [{ port, protocol: 'http' }],
    mesh: mesh('http', port, '/healthz'),
    desired: 1,
    replicas: [{ id: `${name}#1`, replica: 1, container: 'e2'.padEnd(12, '0'), state: 'running', draining: false, healthy: true }],
  });
  const table = (services: GatewayService[]): GatewayTable => ({ type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'dr', services });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const connection = (port: number): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      }).on('error', reject);
    });
  try {
    await gateway.apply(table([svc('one', first)]));
    assert.notEqual(await connection(first), 'close', 'HTTP/1.1 keep-alive by default');
    gateway.startDraining();
    assert.equal(await connection(first), 'close');
    await gateway.apply(table([svc('one', first), svc('two', later)]));
    assert.equal(await connection(later), 'close', 'a listener bound while draining drains too');
    // Called off (the daemon no longer names it for a drain): both listeners, still bound, keep connections alive again.
    gateway.stopDraining();
    assert.notEqual(await connection(first), 'close', 'a listener bound before the drain keeps alive again');
    assert.notEqual(await connection(later), 'close', 'a listener bound during the drain keeps alive again');
  } finally {
    agent.destroy();
    local.abort();
    await gateway.close();
  }
});

test('a service leaving a shared port keeps the listener (open keep-alive connections too); its return is served again', async () => {
  const port = await freePort();
  await httpReplica('127.0.0.2', port, 'any');
  const local = new AbortController();
  const gateway = new Gateway({ signal: local.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2' });
  const svc = (name: string): GatewayService => ({
    name,
    names: [name],
    ports: [{ port, protocol: 'http' }],
    mesh: mesh('http', port, '/healthz'),
    desired: 1,
    replicas: [{ id: `${name}#1`, replica: 1, container: `${name}`.padEnd(12, '0'), state: 'running', draining: false, healthy: true }],
  });
  const table = (services: GatewayService[]): GatewayTable => ({ type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'lv', services });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<net.Socket>();
  const call = (host: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      });
      req.on('socket', (s) => sockets.add(s));
      req.on('error', reject);
    });
  try {
    await gateway.apply(table([svc('web'), svc('api')]));
    assert.equal(await call('web'), '200');
    await gateway.apply(table([svc('web')]));
    // The same keep-alive connection still serves web: the listener was not re-bound.
    assert.equal(await call('web'), '200');
    assert.equal(sockets.size, 1, 'one connection across the change');
    assert.equal(await get(port, 'web'), '200 any@127.0.0.2');
    await gateway.apply(table([svc('web'), svc('api')]));
    assert.equal(await get(port, 'api'), '200 any@127.0.0.2', 'api back on the kept listener, with its replicas');
    assert.equal(await call('web'), '200');
    assert.equal(sockets.size, 1);
  } finally {
    agent.destroy();
    local.abort();
    await gateway.close();
  }
});
