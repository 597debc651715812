// The supervisor's RELEASE for a retiring worker: with hosts, only the listening sockets bound on those addresses
// close (the shared gateway binds one port on several projects' addresses; one project retiring keeps the others).

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { freePort } from '../../test/helpers/free-port.ts';
import { closePrimaryCopies, type Handle } from './shared-sockets.ts';

const listen = (port: number, host: string): Promise<net.Server> =>
  new Promise((resolve) => {
    const s = net.createServer((c) => {
      c.on('error', () => undefined);
      c.end('hi');
    });
    s.listen(port, host, () => resolve(s));
  });

const connect = (port: number, host: string): Promise<string> =>
  new Promise((resolve) => {
    const s = net.connect(port, host, () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });

test('closePrimaryCopies: with hosts, only the sockets on those addresses; without, every one on the port', async () => {
  const port = await freePort();
  const servers = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((h) => listen(port, h)));
  // The raw handles, as the primary holds them for cluster (its process's active handles there).
  const handles = servers.map((s) => (s as unknown as { _handle: Handle })._handle);
  try {
    assert.equal(closePrimaryCopies([port], ['127.0.0.2'], handles), 1);
    assert.equal(await connect(port, '127.0.0.2'), 'ECONNREFUSED');
    assert.equal(await connect(port, '127.0.0.3'), 'connected');
    assert.equal(closePrimaryCopies([port], undefined, handles.slice(1)), 2);
    assert.equal(await connect(port, '127.0.0.4'), 'ECONNREFUSED');
  } finally {
    for (const s of servers) s.close();
  }
});
