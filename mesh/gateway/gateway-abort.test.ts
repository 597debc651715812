// A Gateway honours its own signal: when it aborts, the listeners close (connections are refused), as they do on
// close(); close() after it, or before it, is harmless. main.ts used to be the only one closing them on abort.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { freePort } from '../proxy/testing.ts';
import { Gateway } from './gateway.ts';
import { httpService } from './gateway-test-kit.ts';

/** What a connection to the gateway's port comes to: 'connected' or the error code. */
const connect = (port: number): Promise<string> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

/** A gateway serving `web` on a port of its own (its replica on 127.0.0.2); `abort` is its signal's controller. */
async function serving(t: TestContext): Promise<{ gateway: Gateway; abort: AbortController; port: number }> {
  const port = await freePort();
  const replica = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => replica.listen(port, '127.0.0.2', r));
  const abort = new AbortController();
  const gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2' });
  t.after(async () => {
    abort.abort();
    await gateway.close();
    await new Promise<void>((r) => replica.close(() => r()));
  });
  const table: GatewayTable = { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services: [httpService('web', port, 'abcdefabcdef')] };
  await gateway.apply(table);
  assert.equal(await connect(port), 'connected');
  return { gateway, abort, port };
}

/** Bounded wait for the port to refuse connections; the last outcome. */
async function refusedWithin(port: number, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await connect(port);
    if (last === 'ECONNREFUSED') return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  return last;
}

test('the signal aborting closes the listeners without close(); close() after it is harmless', async (t: TestContext) => {
  const { gateway, abort, port } = await serving(t);
  abort.abort();
  assert.equal(await refusedWithin(port, 3000), 'ECONNREFUSED');
  await gateway.close();
  assert.deepEqual(gateway.serving(), []);
});

test('close() then the signal aborting: both settle, the port stays closed', async (t: TestContext) => {
  const { gateway, abort, port } = await serving(t);
  const closing = gateway.close();
  abort.abort();
  await closing;
  assert.equal(await refusedWithin(port, 3000), 'ECONNREFUSED');
});
