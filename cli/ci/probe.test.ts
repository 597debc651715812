// The smoke probe of a published HTTP port against real local servers: non-5xx passes, 5xx and silence fail with the
// reason, an interim 1xx is skipped, and the probe's connection is closed at once (a kept-alive one held the CLI's exit).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import type { ServiceTableRow } from '../../daemon/api/control.ts';
import { probeService } from './probe.ts';

const row = (port: number, protocol = 'http'): ServiceTableRow =>
  ({ service: 'web', protocol, publishedPorts: [{ published: port, target: 3000, hostIp: '127.0.0.1', protocol: 'tcp' }] }) as unknown as ServiceTableRow;

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

test('HTTP: the status decides (redirects not followed), and the connection is closed as soon as it is in', async (t) => {
  let status = 200;
  let opened = 0;
  let closed = 0;
  const server = createHttpServer((req, res) => {
    assert.equal(req.headers.host?.startsWith('127.0.0.1:'), true);
    res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
    res.end('x'.repeat(64 * 1024)); // more than one read: the probe must not wait for the body
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    opened++;
    s.on('close', () => closed++);
  });
  const port = await listen(server);
  t.after(() => server.close());
  for (const [code, ok] of [[200, true], [302, true], [404, true], [503, false]] as const) {
    status = code;
    const [probe] = await probeService(row(port), 2000);
    assert.ok(opened > 0);
    assert.deepEqual(probe, { service: 'web', target: `http://127.0.0.1:${port}`, ok, detail: `GET / → ${code}` });
    const at = Date.now();
    while (closed < opened && Date.now() - at < 2000) await new Promise((r) => setTimeout(r, 5));
    assert.equal(closed, opened, `the probe's connection is closed, not kept alive (status ${code})`);
  }
});

test('HTTP: an interim 100 is skipped; silence times out; a refused port and a non-HTTP answer fail with the reason', async (t) => {
  const raw = createTcpServer((s) => {
    s.once('data', () => {
      if (s.localPort === interimPort) s.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
      else if (s.localPort === garbagePort) s.end('SSH-2.0-OpenSSH\r\n');
      // The silent one answers nothing.
    });
  });
  const interimPort = await listen(raw);
  const other = createTcpServer((s) => raw.emit('connection', s));
  const garbagePort = await listen(other);
  const silent = createTcpServer(() => undefined);
  const silentPort = await listen(silent);
  const sockets: Socket[] = [];
  silent.on('connection', (s: Socket) => sockets.push(s));
  t.after(() => {
    for (const s of sockets) s.destroy();
    raw.close();
    other.close();
    silent.close();
  });
  assert.equal((await probeService(row(interimPort), 2000))[0]?.detail, 'GET / → 204');
  assert.deepEqual((await probeService(row(garbagePort), 2000))[0]?.detail, 'GET / → not an HTTP response');
  const started = Date.now();
  assert.deepEqual((await probeService(row(silentPort), 300))[0], { service: 'web', target: `http://127.0.0.1:${silentPort}`, ok: false, detail: 'GET / → timeout after 300 ms' });
  assert.ok(Date.now() - started < 2000);
  silent.close();
  const gone = createTcpServer();
  const gonePort = await listen(gone);
  await new Promise((r) => gone.close(r));
  assert.deepEqual((await probeService(row(gonePort), 500))[0]?.detail, 'GET / → ECONNREFUSED');
  assert.deepEqual((await probeService(row(gonePort, 'tcp'), 500))[0], { service: 'web', target: `tcp://127.0.0.1:${gonePort}`, ok: false, detail: 'connect → ECONNREFUSED' });
});
