// The HTTP probe reads the status line itself (no node http client): what it sends, what it accepts, how it fails.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, mock, test } from 'node:test';
import { probeOnce, statusOf } from './probe.ts';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A raw TCP server that records each request head and answers with `reply` (split into the given chunks). */
async function rawServer(reply: string[] | null): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const s = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      if (!buf.includes('\r\n\r\n')) return;
      heads.push(buf);
      if (reply === null) return void sock.end();
      // Each chunk in its own write, a tick apart: the probe must join a status line split across reads.
      void (async () => {
        for (const chunk of reply) {
          sock.write(chunk);
          await new Promise((r) => setTimeout(r, 5));
        }
        sock.end();
      })();
    });
    sock.on('error', () => undefined);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as net.AddressInfo).port, heads };
}

test('statusOf: the final status code, interim 1xx skipped, incomplete or foreign answers told apart', () => {
  assert.equal(statusOf('HTTP/1.1 200 OK\r\n'), 200);
  assert.equal(statusOf('HTTP/1.0 302 Found\r\nLocation: /x\r\n'), 302);
  assert.equal(statusOf('HTTP/1.1 2'), 'more');
  assert.equal(statusOf('HTTP/1.1 204'), 'more', 'no line end yet');
  assert.equal(statusOf('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n'), 'more', 'an interim response: wait for the final one');
  assert.equal(statusOf('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 503 Busy\r\n'), 503);
  assert.equal(statusOf('SSH-2.0-OpenSSH_9.2\r\n'), 'bad');
  assert.equal(statusOf('no status line here'), 'bad', '12 characters that cannot start one');
});

test('probeOnce over HTTP: no node http client; the request head as before; the code decides', async () => {
  const request = mock.method(http, 'request');
  try {
    const ok = await rawServer(['HTT', 'P/1.1 20', '4 No Content\r\n', 'Content-Length: 0\r\n\r\n']);
    assert.deepEqual(await probeOnce({ host: '127.0.0.1', port: ok.port, path: 'healthz', timeoutMs: 2000 }), { ok: true, reason: 'http 204' });
    const [head] = ok.heads;
    assert.equal(head, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${ok.port}\r\nUser-Agent: cmesh-health/1\r\nConnection: close\r\nAccept: */*\r\n\r\n`);
    const busy = await rawServer(['HTTP/1.1 503 Service Unavailable\r\n\r\n']);
    assert.deepEqual(await probeOnce({ host: '127.0.0.1', port: busy.port, path: '/', timeoutMs: 2000 }), { ok: false, reason: 'http 503' });
    const hints = await rawServer(['HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', 'HTTP/1.1 200 OK\r\n\r\n']);
    assert.deepEqual(await probeOnce({ host: '127.0.0.1', port: hints.port, path: '/', timeoutMs: 2000 }), { ok: true, reason: 'http 200' });
    assert.equal(request.mock.callCount(), 0, 'the probe reads the status line itself');
  } finally {
    request.mock.restore();
  }
});

test('probeOnce over HTTP fails on a close without an answer, a foreign protocol, silence and a path that would break the line', async () => {
  const closes = await rawServer(null);
  assert.deepEqual(await probeOnce({ host: '127.0.0.1', port: closes.port, path: '/', timeoutMs: 2000 }), { ok: false, reason: 'ECONNRESET' });
  const ssh = await rawServer(['SSH-2.0-OpenSSH_9.2\r\n']);
  assert.deepEqual(await probeOnce({ host: '127.0.0.1', port: ssh.port, path: '/', timeoutMs: 2000 }), { ok: false, reason: 'bad response' });
  const silent = await rawServer([]);
  // (rawServer([]) ends at once: a silent one is a server that never writes)
  const mute = net.createServer(() => undefined);
  servers.push(mute);
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  const port = (mute.address() as net.AddressInfo).port;
  assert.deepEqual(await probeOnce({ host: '127.0.0.1', port, path: '/', timeoutMs: 100 }), { ok: false, reason: 'timeout after 100ms' });
  assert.deepEqual(await probeOnce({ host: '127.0.0.1', port: silent.port, path: '/a b\r\nX: y', timeoutMs: 2000 }), { ok: false, reason: 'invalid path' });
  assert.equal(silent.heads.length, 0, 'nothing was sent');
});
