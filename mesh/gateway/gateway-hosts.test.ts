// A gateway bound on a list of addresses (the shared gateway's, one per project network): each port on each address,
// served only once bound on all of them; the list changes while it runs.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION } from '../../daemon/api/gateway-control.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { Gateway } from './gateway.ts';
import { httpService } from './gateway-test-kit.ts';
import { call } from './shared-gateway-test-kit.ts';

const abort = new AbortController();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  abort.abort();
  for (const c of closers) await c();
});

test('hosts: a port bound on each address; served only once bound on every one; setHosts() moves it', async () => {
  const port = await freePort();
  const replica = http.createServer((_req, res) => res.end('web'));
  await new Promise<void>((r) => replica.listen(port, '127.0.0.61', r));
  closers.push(() => new Promise((r) => replica.close(() => r())));
  // Another process's listener holds the port on .63: the gateway cannot bind there.
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.63', r));
  closers.push(() => new Promise((r) => squatter.close(() => r())));
  const gateway = new Gateway({ signal: abort.signal, hosts: ['127.0.0.62', '127.0.0.63'] });
  closers.unshift(() => gateway.close());
  const web = httpService('web', port, '7f00003d0000');
  await gateway.apply({
    type: 'table',
    version: GATEWAY_PROTOCOL_VERSION,
    project: 'p',
    services: [{ ...web, replicas: web.replicas.map((r) => ({ ...r, address: '127.0.0.61' })) }],
  });
  assert.equal(await call('127.0.0.62', port), '200 web');
  assert.deepEqual(gateway.serving(), [], 'not bound on .63');
  const [warning, ...more] = gateway.warnings();
  assert.ok(warning?.startsWith(`cannot listen on 127.0.0.63:${port}: `) && more.length === 0, String(gateway.warnings()));
  await gateway.setHosts(['127.0.0.62', '127.0.0.64']);
  assert.deepEqual(gateway.serving(), ['web']);
  assert.deepEqual(gateway.warnings(), [], 'the warning of a dropped address goes with it');
  assert.equal(await call('127.0.0.64', port), '200 web');
  await gateway.setHosts(['127.0.0.64']);
  assert.equal(await call('127.0.0.62', port), 'ECONNREFUSED');
  assert.deepEqual(gateway.serving(), ['web']);
  await gateway.setHosts([]);
  assert.deepEqual(gateway.serving(), [], 'no address: nothing served');
  assert.equal(await call('127.0.0.64', port), 'ECONNREFUSED');
});
