// `cmesh ca install --root DIR` into sandboxes only: the Debian and Fedora layouts, the update tool run only for the
// real root, and clear errors when there is no store or no permission. `cmesh ca` names every platform.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CmeshError } from '../daemon/api/errors.ts';
import { INSTALLED_NAME, detectStore, installCa, trustInstructions } from './ca-trust.ts';

const dir = mkdtempSync(join(tmpdir(), 'cmesh-ca-trust-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const caPath = join(dir, 'cmesh-ca.crt');
writeFileSync(caPath, '-----BEGIN CERTIFICATE-----\nsandbox\n-----END CERTIFICATE-----\n');

function sandbox(name: string, marker: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, marker), '');
  return root;
}

const never = (cmd: string[]): void => assert.fail(`ran ${cmd.join(' ')} for a sandbox root`);

test('Debian-like root: the CA lands in usr/local/share/ca-certificates; the update tool is not run for a sandbox', () => {
  const root = sandbox('debian', 'etc/debian_version');
  const lines = installCa(caPath, root, never);
  const dest = join(root, 'usr/local/share/ca-certificates', INSTALLED_NAME);
  assert.equal(readFileSync(dest, 'utf8'), readFileSync(caPath, 'utf8'));
  assert.deepEqual(lines, [`copied ${caPath} to ${dest} (Debian/Ubuntu)`, `--root ${root}: update-ca-certificates not run (it updates only the real system store)`]);
});

test('Fedora-like root: the CA lands in the ca-trust anchors', () => {
  const root = sandbox('fedora', 'etc/fedora-release');
  assert.equal(detectStore(root)?.update[0], 'update-ca-trust');
  installCa(caPath, root, never);
  assert.ok(readFileSync(join(root, 'etc/pki/ca-trust/source/anchors', INSTALLED_NAME), 'utf8').includes('sandbox'));
});

test('no known store, or no permission: a CMESH_E_TLS error with a hint, nothing half-done', () => {
  const bare = join(dir, 'bare');
  mkdirSync(bare);
  assert.throws(() => installCa(caPath, bare, never), (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_TLS' && /cmesh ca/.test(err.hint ?? ''));
  // A store path that cannot be created (here `usr` is a file, which fails for root too) is an error, not a partial install.
  const broken = sandbox('broken', 'etc/debian_version');
  writeFileSync(join(broken, 'usr'), '');
  assert.throws(() => installCa(caPath, broken, never), (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_TLS' && /cannot write/.test(err.message));
});

test('cmesh ca names the path, the fingerprint and every platform', () => {
  const text = trustInstructions('/home/u/ca.crt', 'AA:BB');
  for (const want of ['/home/u/ca.crt', 'AA:BB', 'update-ca-certificates', 'update-ca-trust', 'security add-trusted-cert', 'certutil', 'NODE_EXTRA_CA_CERTS', 'curl --cacert']) {
    assert.ok(text.includes(want), `missing ${want}`);
  }
});
