// A gateway being replaced start-first: it takes the new table (a service's names changed on a port shared by Host)
// without re-binding its port; told to drain, its answers carry `Connection: close`; retired, its listeners close
// (new connections refused, idle ones closed) until it is unretired.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayService, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { freePort } from '../proxy/testing.ts';
import { Gateway } from './gateway.ts';
import { httpService } from './gateway-test-kit.ts';

const web = (port: number, names: string[], name = 'web'): GatewayService => httpService(name, port, 'abcdefabcdef', { names });

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

test('a names change on a shared port keeps the listener; draining says Connection: close; retiring closes the rest', async (t: TestContext) => {
  // The gateway listens on .1, the replica on .2, on the same port (as in a container).
  const port = await freePort();
  const replica = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => replica.listen(port, '127.0.0.2', r));
  t.after(() => new Promise<void>((r) => replica.close(() => r())));
  const abort = new AbortController();
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2' });
  t.after(async () => {
    abort.abort();
    await gateway.close();
  });
  await gateway.apply(table(web(port, ['web'])));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
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
  const retiring = gateway.retire();
  assert.equal(gateway.retiring, true);
  assert.equal(gateway.retired, false, 'not reported retired while its listeners close and its connections finish');
  await retiring;
  assert.equal(gateway.retired, true);
  assert.ok(await closed, 'idle connection closed by the retirement');
  await assert.rejects(get(agent, port), /ECONNREFUSED/);
  await gateway.apply(table(web(port, ['web', 'www'])));
  await assert.rejects(get(agent, port), /ECONNREFUSED/);
  assert.deepEqual(gateway.serving(), []);
  // Called off (the daemon no longer names it): the listeners bound again answer keep-alive, not Connection: close.
  gateway.stopDraining();
  await gateway.unretire();
  const back = await get(agent, port);
  assert.equal(back.status, 200);
  assert.notEqual(back.connection, 'close', 'an un-retired gateway keeps connections alive again');
  assert.equal(gateway.draining, false);
  assert.equal(gateway.retired, false);
});
