// The daemon's CA service: created once in CMESH_HOME/ca, client certificates under certs/, renewals counted, and
// handshake problems counted in cmesh_tls_handshake_errors_total and logged (repeats of a name only counted).

import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect } from 'node:tls';
import client from 'prom-client';
import { CmeshError } from './api/errors.ts';
import { DaemonTls } from './tls-service.ts';

const home = await mkdtemp(join(tmpdir(), 'cmesh-tls-home-'));
const registry = new client.Registry();
const logs: string[] = [];
const tls = new DaemonTls({ home, log: (l) => logs.push(l), registers: [registry] });
after(async () => {
  await tls[Symbol.asyncDispose]();
  await rm(home, { recursive: true, force: true });
});

test('the CA is created on first use, once', async () => {
  const first = await tls.caInfo();
  assert.equal(first.path, join(home, 'ca', 'cmesh-ca.crt'));
  assert.equal(first.created, true);
  assert.match(first.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal((await tls.caInfo()).created, false);
  assert.equal(logs.filter((l) => l.includes('created the local CA')).length, 1);
});

test('client certificates: 0600 keys under certs/; a bad name is a usage error', async () => {
  const r = await tls.issueClient('alice');
  assert.deepEqual([r.cert, r.key], [join(home, 'certs', 'alice.crt'), join(home, 'certs', 'alice.key')]);
  assert.equal((await stat(r.key)).mode & 0o777, 0o600);
  await assert.rejects(tls.issueClient('../etc/passwd'), (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_USAGE');
});

test('handshake problems are counted by reason and logged; renew counts the certificates it renewed', async () => {
  const serving = await tls.serving('shop', 'web', { hosts: ['api.test'], clientAuth: 'require' });
  const server = serving.createServer({}, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    for (const servername of ['nope.test', 'nope.test']) {
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => s.write('x'));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
    }
    const text = await registry.metrics();
    assert.match(text, /cmesh_tls_handshake_errors_total\{project="shop",service="web",reason="unknown-sni"\} 2/);
    assert.match(text, /cmesh_tls_handshake_errors_total\{project="shop",service="web",reason="no-client-cert"\} 2/);
    assert.equal(logs.filter((l) => l.includes('unknown-sni') && l.includes('nope.test')).length, 1, 'a repeated name is logged once');
    // Two refusals in a row: both counted, logged once in the 10 s window.
    assert.equal(logs.filter((l) => l.startsWith('tls: shop/web: no-client-cert')).length, 1);
    assert.deepEqual(await tls.renew(), { renewed: 2 }, "the service's certificate and the default one");
  } finally {
    await new Promise((r) => server.close(r));
  }
});
