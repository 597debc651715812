// What a response costs on the wire of a TLS listener: a small response that arrives from its replica in one read
// goes out as ONE TLS record (one SSL_write, one send), head and body together. Written in pieces it would cost a
// record, an encryption and a syscall per piece (issue #18: HTTPS CPU a request). Counted on the encrypted bytes by
// a TCP relay between the client and the listener.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { type TLSSocket, connect } from 'node:tls';
import { TestPool, startProxy, testMesh } from '../proxy/testing.ts';
import { TlsServing } from './serving.ts';
import { testCa } from './testing.ts';

const { ca, store } = await testCa('cmesh-tls-records');
const BODY = 'x'.repeat(1024);

/** A replica that answers every request head with one write (so the proxy reads each response in one piece). */
async function oneWriteReplica(): Promise<{ port: number; close(): void }> {
  const answer = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${BODY.length}\r\ncontent-type: text/plain\r\n\r\n${BODY}`);
  const server = net.createServer((s) => {
    let pending = '';
    s.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        s.write(answer);
      }
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Forwards one connection to `port`, keeping every byte the listener sent (the encrypted stream). */
async function relay(port: number): Promise<{ port: number; fromServer: Buffer[]; close(): void }> {
  const fromServer: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    upstream.on('data', (d: Buffer) => {
      fromServer.push(d);
      client.write(d);
    });
    client.pipe(upstream);
    for (const s of [client, upstream]) s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    fromServer,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** TLS records in `bytes` (which start at a record boundary): their content types, in order. */
function recordTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  let at = 0;
  while (at + 5 <= bytes.length) {
    types.push(bytes[at]!);
    at += 5 + bytes.readUInt16BE(at + 3);
  }
  assert.equal(at, bytes.length, 'the bytes end on a record boundary');
  return types;
}

/** Sends one keep-alive GET and resolves with the whole response once its body has arrived. */
function exchange(socket: TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const head = got.indexOf('\r\n\r\n');
      if (head >= 0 && got.length - head - 4 >= BODY.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.write('GET /bytes HTTP/1.1\r\nhost: web.localhost\r\n\r\n');
  });
}

for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`a small response goes out as one TLS record, head and body together (${maxVersion})`, async (t) => {
    const replica = await oneWriteReplica();
    t.after(() => replica.close());
    const tls = new TlsServing({ service: 'web', cert: await store.serviceCert('web', []), fallback: await store.defaultCert(), clientAuth: 'none' });
    const proxy = await startProxy(new TestPool('web', [{ id: 'web#1', host: '127.0.0.1', port: replica.port }]), testMesh(), {}, { tls });
    t.after(() => proxy.close());
    const r = await relay(proxy.port);
    t.after(() => r.close());
    const socket = connect({ host: '127.0.0.1', port: r.port, servername: 'web.localhost', ca: ca.certPem, maxVersion, ALPNProtocols: ['http/1.1'] });
    t.after(() => socket.destroy());
    await once(socket, 'secureConnect');
    // The first exchange also carries the handshake's tail (TLS 1.3 session tickets): the second is counted alone.
    assert.match(await exchange(socket), /^HTTP\/1\.1 200 /);
    const before = Buffer.concat(r.fromServer).length;
    const second = await exchange(socket);
    assert.match(second, /^HTTP\/1\.1 200 /);
    const APPLICATION_DATA = 23;
    assert.deepEqual(recordTypes(Buffer.concat(r.fromServer).subarray(before)), [APPLICATION_DATA]);
  });
}
