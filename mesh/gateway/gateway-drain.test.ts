// A gateway being replaced start-first: it takes the new table (a service's names changed on a port shared by Host)
// without re-binding its port; told to drain, its answers carry `Connection: close`; retired, its listeners close
// (new connections refused, idle ones closed) until it is unretired.

import assert from 'node:assert/strict';
import http from 'node:http';
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

/** A port free on both loopback addresses: the gateway listens on .1, the replica on .2 (same port, as in a container). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const web = (port: number, names: string[], name = 'web'): GatewayService => ({
  name,
  names,
  ports: [{ port, protocol: 'http' }],
  mesh: {
    lb: 'round-robin',
    protocol: 'http',
    weights: [],
    weight: 1,
    health: { path: '/', intervalMs: 60_000, timeoutMs: 500, rise: 1, fall: 3, port },
    retries: 1,
    timeouts: { connectMs: 500, requestMs: 5000, idleMs: 60_000 },
    accessLog: false,
    healthExplicit: false,
  },
  desired: 1,
  replicas: [{ id: `${name}#1`, replica: 1, container: 'abcdefabcdef', state: 'running', draining: false, healthy: true }],
});

/** web and api share the port (told apart by Host), as two echo services on 3000 do. */
const table = (service: GatewayService): GatewayTable => ({
  type: 'table',
  version: GATEWAY_PROTOCOL_VERSION,
  project: 'p',
  services: [service, web(service.ports[0]!.port, ['api'], 'api')],
});

function get(agent: http.Agent, port: number, host = 'web'): Promise<{ status: number; connection: string | undefined; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, socket: req.socket! }));
    });
    req.on('error', reject);
  });
}

test('a names change on a shared port keeps the listener; draining says Connection: close; retiring closes the rest', async () => {
  const port = await freePort();
  const replica = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => replica.listen(port, '127.0.0.2', r));
  closers.push(() => new Promise((r) => replica.close(() => r())));
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2' });
  closers.unshift(() => gateway.close());
  await gateway.apply(table(web(port, ['web'])));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  closers.push(async () => agent.destroy());
  const first = await get(agent, port);
  assert.equal(first.status, 200);
  assert.notEqual(first.connection, 'close');
  // On a connection of its own: a connection stays with the service its first request named.
  const fresh = () => new http.Agent({ keepAlive: false });
  assert.equal((await get(fresh(), port, 'www')).status, 421, 'www names no service yet');
  // The new table a replacement brings (web got a compose alias): the same listener, the same connection, and the
  // new name picks web at once.
  await gateway.apply(table(web(port, ['web', 'www'])));
  const second = await get(agent, port);
  assert.equal(second.socket, first.socket, 'the keep-alive connection survived the table');
  assert.deepEqual(gateway.serving().sort(), ['api', 'web']);
  assert.equal((await get(fresh(), port, 'www')).status, 200);
  // Told to drain: the next answer says Connection: close, so the caller looks the name up again.
  gateway.startDraining();
  const third = await get(agent, port);
  assert.equal(third.status, 200);
  assert.equal(third.connection, 'close');
  // A connection that sits idle is closed when the gateway retires (its listeners close).
  const idle = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    idle.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    idle.resume();
  });
  // Retired: its listener closes (a caller with both addresses goes on to the other); refused, and not bound again
  // by the periodic sync; unretired, it listens again.
  await gateway.retire();
  assert.ok(await closed, 'idle connection closed by the retirement');
  await assert.rejects(get(agent, port), /ECONNREFUSED/);
  await gateway.apply(table(web(port, ['web', 'www'])));
  await assert.rejects(get(agent, port), /ECONNREFUSED/);
  assert.deepEqual(gateway.serving(), []);
  await gateway.unretire();
  assert.equal((await get(agent, port)).status, 200);
});
