// use_api_socket: the engine socket as a bind mount, the user's registry credentials as a 0600 secret with DOCKER_CONFIG.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CmeshError } from './api/errors.ts';
import { API_SOCKET_TARGET, CREDENTIALS_SECRET, credentialsConfig, socketPath, withApiSocket } from './api-socket.ts';
import { project, svc } from './reconcile/testing.ts';

async function withConfig(config: unknown, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-apisock-'));
  try {
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const basic = (user: string, pass: string): string => Buffer.from(`${user}:${pass}`).toString('base64');

test('the socket path comes from a unix engine address; other transports are refused with a hint', () => {
  assert.equal(socketPath('unix:///var/run/docker.sock'), '/var/run/docker.sock');
  assert.throws(() => socketPath('tcp://10.0.0.1:2376'), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_ENGINE_UNSUPPORTED' && /tcp:\/\/10\.0\.0\.1/.test(e.message));
});

test('credentials: every registry with usable auth, as base64 user:password', async () => {
  await withConfig({ auths: { 'https://index.docker.io/v1/': { auth: basic('me', 'pw') }, 'reg.local:5000': { username: 'u', password: 'p' }, 'empty.local': {} } }, async (dir) => {
    const text = await credentialsConfig(dir);
    assert.deepEqual(JSON.parse(text ?? '{}'), { auths: { 'https://index.docker.io/v1/': { auth: basic('me', 'pw') }, 'reg.local:5000': { auth: basic('u', 'p') } } });
  });
  await withConfig({}, async (dir) => assert.equal(await credentialsConfig(dir), undefined));
});

test('a use_api_socket service gets the socket, the credentials secret and DOCKER_CONFIG; the others nothing', async () => {
  const p = project('p', [svc('tool', { useApiSocket: true }), svc('web')]);
  await withConfig({ auths: { 'reg.local:5000': { auth: basic('u', 'p') } } }, async (dir) => {
    const out = await withApiSocket(p, 'unix:///run/docker.sock', dir);
    const tool = out.services['tool']!;
    assert.deepEqual(tool.volumes.at(-1), { type: 'bind', source: '/run/docker.sock', target: API_SOCKET_TARGET, readOnly: false });
    assert.deepEqual(tool.secrets, [{ source: CREDENTIALS_SECRET, target: '/run/secrets/docker/config.json', mode: 0o600 }]);
    assert.equal(tool.environment['DOCKER_CONFIG'], '/run/secrets/docker');
    assert.match(out.secrets?.[CREDENTIALS_SECRET]?.content ?? '', /reg\.local:5000/);
    assert.deepEqual(out.services['web'], p.services['web']);
  });
  await withConfig({}, async (dir) => {
    const out = await withApiSocket(p, 'unix:///run/docker.sock', dir);
    assert.equal(out.services['tool']?.secrets, undefined);
    assert.equal(out.secrets, undefined);
    assert.equal(out.services['tool']?.volumes.length, 1);
  });
  // Without a use_api_socket service, nothing is asked of the engine address (a TCP engine is fine).
  const plain = project('p', [svc('web')]);
  assert.equal(await withApiSocket(plain, 'tcp://x:1'), plain);
});
