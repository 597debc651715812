// ProxyListener: port conflicts become CMESH_E_PORT_TAKEN, and close() drains in-flight work within its bound.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import { CmeshError } from '../../daemon/api/errors.ts';
import { createHttpProxy } from './http-proxy.ts';
import { ProxyListener } from './listener.ts';
import { TestPool, describeEachReadPath, startProxy, startUpstream, testMesh } from './testing.ts';

describeEachReadPath('proxy listener', { timeout: 30_000 }, () => {
  test('a taken port is CMESH_E_PORT_TAKEN naming host:port, with a hint', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const listener = new ProxyListener({ proxy: createHttpProxy({ service: 'web', pool: new TestPool('web', []), mesh: testMesh() }) });
    try {
      const err = await listener.listen({ host: '127.0.0.1', port }).catch((e: unknown) => e);
      assert.ok(err instanceof CmeshError);
      assert.equal(err.code, 'CMESH_E_PORT_TAKEN');
      assert.match(err.message, new RegExp(`service "web" on 127\\.0\\.0\\.1:${port}: the port is already in use`));
      assert.match(err.hint ?? '', /ss -ltnp/);
      assert.equal(err.details['port'], port);
    } finally {
      holder.close();
      await listener.close();
    }
  });

  test('close() lets an in-flight request finish', async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const slow = await startUpstream('web#1', (req, res) => {
      req.resume();
      arrived();
      setTimeout(() => res.end('done'), 150);
    });
    const p = await startProxy(new TestPool('web', [slow.upstream]), testMesh(), {}, { drainTimeoutMs: 2000 });
    try {
      const pending = request(`${p.url}/`);
      await reached;
      await p.close();
      const r = await pending;
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), 'done');
    } finally {
      await p.close();
      await slow.close();
    }
  });

  test('close() gives up on a stuck request after the drain bound', async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const stuck = await startUpstream('web#1', () => arrived());
    const p = await startProxy(new TestPool('web', [stuck.upstream]), testMesh(), {}, { drainTimeoutMs: 200 });
    try {
      const pending = request(`${p.url}/`).catch((e: Error) => e);
      await reached;
      const t0 = Date.now();
      await p.close();
      assert.ok(Date.now() - t0 < 1000, 'close is bounded');
      assert.ok((await pending) instanceof Error);
    } finally {
      await p.close();
      await stuck.close();
    }
  });
});
