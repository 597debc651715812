// TLS listeners against real node TLS clients: versions and ALPN, SNI and the default certificate, mTLS, the
// client identity header, and renewal that leaves open connections alone.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ConnectionOptions, type TLSSocket, connect } from 'node:tls';
import { LocalCa } from './ca.ts';
import { CertStore } from './cert-store.ts';
import { clientIdentity } from './identity.ts';
import type { ClientAuth } from '../../daemon/api/tls.ts';
import { type TlsProblem, TlsServing } from './serving.ts';
import { testCa } from './testing.ts';

const { root, ca, store } = await testCa('cmesh-tls');

interface Served {
  port: number;
  problems: TlsProblem[];
  close(): Promise<void>;
}

/** A TLS listener whose connections answer one line: the identity the proxy would send upstream. */
async function serve(clientAuth: ClientAuth, hosts: string[] = []): Promise<Served> {
  const problems: TlsProblem[] = [];
  const tls = new TlsServing({ service: 'web', cert: await store.serviceCert('web', hosts), fallback: await store.defaultCert(), clientAuth, onProblem: (p) => problems.push(p) });
  const sockets = new Set<Socket>();
  const server = tls.createServer({}, (socket) => {
    sockets.add(socket);
    socket.on('data', () => socket.write(`${JSON.stringify(clientIdentity(socket))}\n`));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    problems,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function dial(port: number, o: ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: ca.certPem, ...o }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Connects, asks once and hangs up: the identity, or the error of whichever phase (handshake or first read) failed. */
function roundTrip(port: number, o: ConnectionOptions): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: ca.certPem, ...o }, () => s.write('?'));
    s.once('error', reject);
    // A refused client certificate is not an alert: node closes the connection after the handshake.
    s.once('close', () => reject(new Error('connection closed without an answer')));
    s.once('data', (line: Buffer) => {
      resolve(JSON.parse(line.toString()));
      s.destroy();
    });
  });
}

async function ask(s: TLSSocket): Promise<Record<string, string>> {
  s.write('?');
  const [line] = (await once(s, 'data')) as [Buffer];
  return JSON.parse(line.toString());
}

test('TLS 1.3 with ALPN h2 (http/1.1 for clients without it) and the service certificate for its names; no SNI gets the default one', async () => {
  const l = await serve('none', ['api.test']);
  try {
    const s = await dial(l.port, { servername: 'api.test', ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(s.getProtocol(), 'TLSv1.3');
    assert.equal(s.alpnProtocol, 'h2');
    const h1 = await dial(l.port, { servername: 'api.test', ALPNProtocols: ['http/1.1'] });
    assert.equal(h1.alpnProtocol, 'http/1.1');
    h1.destroy();
    assert.equal(new X509Certificate(s.getPeerX509Certificate()!.raw).subject, 'CN=web');
    assert.deepEqual(await ask(s), { proto: 'https' });
    s.destroy();
    const bare = await dial(l.port);
    assert.equal(bare.getPeerX509Certificate()?.subject, 'CN=localhost');
    bare.destroy();
    // A wildcard host covers one label more, and the client accepts what it gets.
    const wild = await serve('none', ['*.wild.test']);
    const w = await dial(wild.port, { servername: 'a.wild.test' });
    assert.equal(w.getPeerX509Certificate()?.subject, 'CN=web');
    w.destroy();
    await wild.close();
    // A TLS 1.2-only client is still served.
    const old = await dial(l.port, { servername: 'web.localhost', maxVersion: 'TLSv1.2' });
    assert.equal(old.getProtocol(), 'TLSv1.2');
    old.destroy();
    // Clients hanging up right after their handshake may be counted as resets; nothing else went wrong.
    assert.deepEqual(l.problems.filter((p) => p.reason !== 'client-reset'), []);
  } finally {
    await l.close();
  }
});

test('without the CA the client refuses the certificate; an unknown name gets the default certificate and is reported', async () => {
  const l = await serve('none');
  try {
    await assert.rejects(dial(l.port, { ca: undefined, servername: 'localhost' }), /self-signed|unable to (get|verify)/);
    const s = await dial(l.port, { servername: 'nope.test', checkServerIdentity: () => undefined });
    assert.equal(s.getPeerX509Certificate()?.subject, 'CN=localhost');
    s.destroy();
    const again = await dial(l.port, { servername: 'nope.test', checkServerIdentity: () => undefined });
    again.destroy();
    await waitFor(() => l.problems.filter((p) => p.reason === 'unknown-sni').length === 2);
    const sni = l.problems.filter((p) => p.reason === 'unknown-sni');
    assert.equal(sni.length, 2, 'both handshakes counted');
    assert.equal(sni[0]?.servername, 'nope.test');
    assert.equal(sni[0]?.quiet, undefined, 'the first one is logged');
    assert.equal(sni[1]?.quiet, true, 'a repeat is only counted');
  } finally {
    await l.close();
  }
});

test('client_auth require: no certificate is refused, a cmesh certificate is named in Envoy format', async () => {
  const l = await serve('require');
  try {
    // TLS 1.3 finishes the client's side of the handshake before the server checks its certificate: the refusal
    // arrives as an alert on the first read.
    await assert.rejects(roundTrip(l.port, { servername: 'localhost' }), /certificate required/);
    await waitFor(() => l.problems.some((p) => p.reason === 'no-client-cert'));
    const issued = await ca.issue({ commonName: 'alice', sans: [], lifetimeMs: 86_400_000, usage: 'client' });
    const id = await roundTrip(l.port, { servername: 'localhost', cert: issued.cert, key: issued.key });
    const hash = new X509Certificate(issued.cert).fingerprint256.replaceAll(':', '').toLowerCase();
    assert.deepEqual(id, { proto: 'https', xfcc: `Hash=${hash};Subject="CN=alice"`, subject: 'CN=alice' });
    // A certificate from another CA is refused too.
    const { ca: other } = await LocalCa.open(join(root, 'other'));
    const foreign = await other.issue({ commonName: 'mallory', sans: [], lifetimeMs: 86_400_000, usage: 'client' });
    await assert.rejects(roundTrip(l.port, { servername: 'localhost', cert: foreign.cert, key: foreign.key }), /closed without an answer/);
    await waitFor(() => l.problems.some((p) => p.reason === 'bad-client-cert'));
    // After a renewal, with and without SNI (the server's own context is replaced then), the same rules hold.
    await store.renewAll();
    for (const servername of ['localhost', undefined]) {
      const sni = servername === undefined ? {} : { servername };
      assert.equal((await roundTrip(l.port, { ...sni, cert: issued.cert, key: issued.key })).subject, 'CN=alice');
      await assert.rejects(roundTrip(l.port, sni), /certificate required/);
    }
  } finally {
    await l.close();
  }
});

test('client_auth request: anonymous clients pass without an identity', async () => {
  const l = await serve('request');
  try {
    const s = await dial(l.port, { servername: 'localhost' });
    assert.deepEqual(await ask(s), { proto: 'https' });
    s.destroy();
  } finally {
    await l.close();
  }
});

test('renewal: open connections keep working, new handshakes (SNI or not) get the new certificate', async () => {
  const l = await serve('none');
  try {
    const before = await dial(l.port, { servername: 'web.localhost' });
    const oldSerial = before.getPeerX509Certificate()?.serialNumber;
    const oldDefault = (await dial(l.port)).getPeerX509Certificate()?.serialNumber;
    assert.ok((await store.renewAll()) >= 2);
    assert.deepEqual(await ask(before), { proto: 'https' }, 'the connection opened before renewal still answers');
    before.destroy();
    const afterSni = await dial(l.port, { servername: 'web.localhost' });
    assert.notEqual(afterSni.getPeerX509Certificate()?.serialNumber, oldSerial);
    afterSni.destroy();
    const afterBare = await dial(l.port);
    assert.notEqual(afterBare.getPeerX509Certificate()?.serialNumber, oldDefault);
    afterBare.destroy();
  } finally {
    await l.close();
  }
});

test('renewDue renews only certificates past the threshold', async () => {
  const { ca: own } = await LocalCa.open(join(root, 'due'));
  const short = new CertStore(own, { lifetimeMs: 600_000 });
  try {
    const cert = await short.serviceCert('api', []);
    const serial = cert.issued.cert;
    assert.equal(await short.renewDue(Date.now()), 0);
    assert.equal(cert.issued.cert, serial);
    assert.equal(await short.renewDue(cert.issued.notAfter.getTime() - 250_000), 0, 'more than a third left');
    assert.equal(await short.renewDue(cert.issued.notAfter.getTime() - 150_000), 1, 'less than a third left');
    assert.notEqual(cert.issued.cert, serial);
  } finally {
    short[Symbol.dispose]();
  }
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), 'condition not reached within 2 s');
}

test('contexts carry the whole chain, leaf then CA, so OpenSSL does not rebuild and re-verify it each handshake', async () => {
  const pems = (await store.defaultCert()).contextOptions().cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  assert.equal(pems.length, 2);
  assert.equal(new X509Certificate(pems[0]!).subject, 'CN=localhost');
  assert.equal(new X509Certificate(pems[1]!).fingerprint256, new X509Certificate(ca.certPem).fingerprint256);
});
