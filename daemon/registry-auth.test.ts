// Docker config credentials as the docker CLI reads them: auths forms, key normalisation, credHelpers/credsStore via a
// fake `docker-credential-*` script on PATH, and the failures that must be clear.

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CmeshError } from './api/errors.ts';
import { DOCKER_HUB_KEY, authConfigKey, dockerConfigDir, resolveRegistryAuth } from './registry-auth.ts';

let dir: string;
let bin: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-auth-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  // A credential helper speaking the protocol: server URL on stdin, JSON on stdout; "not found" for unknown servers.
  await writeFile(
    join(bin, 'docker-credential-fake'),
    `#!/bin/sh
[ "$1" = get ] || exit 2
read server
case "$server" in
  127.0.0.1:5000) echo '{"ServerURL":"127.0.0.1:5000","Username":"helper-user","Secret":"helper-pass"}' ;;
  ${DOCKER_HUB_KEY}) echo '{"ServerURL":"hub","Username":"<token>","Secret":"tok-123"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  await writeFile(join(bin, 'docker-credential-broken'), '#!/bin/sh\necho "helper exploded" >&2\nexit 3\n');
  await chmod(join(bin, 'docker-credential-fake'), 0o755);
  await chmod(join(bin, 'docker-credential-broken'), 0o755);
});
after(() => rm(dir, { recursive: true, force: true }));

async function config(content: unknown): Promise<string> {
  const d = join(dir, `cfg${++n}`);
  await mkdir(d);
  await writeFile(join(d, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return d;
}
const env = () => ({ PATH: `${bin}:/usr/bin:/bin` });

test('registry keys: Docker Hub images use the index URL, others their host[:port]', () => {
  assert.equal(authConfigKey('postgres:16'), DOCKER_HUB_KEY);
  assert.equal(authConfigKey('library/postgres'), DOCKER_HUB_KEY);
  assert.equal(authConfigKey('docker.io/library/postgres:16'), DOCKER_HUB_KEY);
  assert.equal(authConfigKey('127.0.0.1:5000/team/app:1'), '127.0.0.1:5000');
  assert.equal(authConfigKey('ghcr.io/o/r@sha256:abc'), 'ghcr.io');
  assert.equal(authConfigKey('localhost/app'), 'localhost');
  assert.equal(dockerConfigDir({ DOCKER_CONFIG: '/x/y', HOME: '/h' }), '/x/y');
  assert.equal(dockerConfigDir({ HOME: '/h' }), '/h/.docker');
});

test('auths: base64 auth, username/password, identitytoken, and keys written as URLs', async () => {
  const auth = Buffer.from('alice:pa:ss').toString('base64');
  const c = await config({
    auths: {
      '127.0.0.1:5000': { auth },
      'https://reg.example.com/v1/': { username: 'bob', password: 'pw' },
      [DOCKER_HUB_KEY]: { identitytoken: 'idt' },
    },
  });
  assert.deepEqual(await resolveRegistryAuth('127.0.0.1:5000/a:1', { configDir: c }), { serveraddress: '127.0.0.1:5000', username: 'alice', password: 'pa:ss' });
  assert.deepEqual(await resolveRegistryAuth('reg.example.com/a', { configDir: c }), { serveraddress: 'reg.example.com', username: 'bob', password: 'pw' });
  assert.deepEqual(await resolveRegistryAuth('redis', { configDir: c }), { serveraddress: DOCKER_HUB_KEY, identitytoken: 'idt' });
  assert.equal(await resolveRegistryAuth('other.example.com/a', { configDir: c }), undefined);
  assert.equal(await resolveRegistryAuth('a', { configDir: join(dir, 'nowhere') }), undefined, 'no config file: anonymous');
});

test('credHelpers and credsStore run docker-credential-<name> get; "not found" is anonymous', async () => {
  const c = await config({ credHelpers: { '127.0.0.1:5000': 'fake' }, auths: { '127.0.0.1:5000': {} } });
  assert.deepEqual(await resolveRegistryAuth('127.0.0.1:5000/a:1', { configDir: c, env: env() }), {
    serveraddress: '127.0.0.1:5000',
    username: 'helper-user',
    password: 'helper-pass',
  });
  const store = await config({ credsStore: 'fake' });
  assert.deepEqual(await resolveRegistryAuth('nginx', { configDir: store, env: env() }), { serveraddress: DOCKER_HUB_KEY, identitytoken: 'tok-123' });
  assert.equal(await resolveRegistryAuth('quay.io/x', { configDir: store, env: env() }), undefined);
});

test('a broken or missing helper and a damaged config fail clearly, without secrets in the message', async () => {
  const broken = await config({ credsStore: 'broken' });
  await assert.rejects(resolveRegistryAuth('nginx', { configDir: broken, env: env() }), (e: unknown) => {
    assert.ok(e instanceof CmeshError && e.code === 'CMESH_E_PULL_UNAUTHORIZED');
    assert.match(e.message, /docker-credential-broken failed .*helper exploded/);
    return true;
  });
  const missing = await config({ credsStore: 'absent' });
  await assert.rejects(resolveRegistryAuth('nginx', { configDir: missing, env: env() }), /docker-credential-absent, which is not on PATH/);
  await assert.rejects(resolveRegistryAuth('nginx', { configDir: await config('{nope') }), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_CONFIG_READ');
  const bad = await config({ auths: { 'r.io': { auth: Buffer.from('no-colon-secret').toString('base64') } } });
  await assert.rejects(resolveRegistryAuth('r.io/a', { configDir: bad }), (e: unknown) => {
    assert.ok(e instanceof CmeshError && e.code === 'CMESH_E_CONFIG_READ');
    assert.doesNotMatch(e.message, /no-colon-secret/);
    return true;
  });
});
