// POST /v1/projects/:name/{kill,drain} (used by `cmesh dash`) in-process: real socket, fake engine.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../../cli/daemon-client.ts';
import type { KillReplicaResult, ReplicaStatus, ServiceTableRow } from '../api/control.ts';
import { CmeshError } from '../api/errors.ts';
import { type RunningDaemon, startDaemon } from '../daemon.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { resolveHome } from '../api/home.ts';
import { project, svc } from '../reconcile/testing.ts';

let dir: string;
let engine: FakeEngine;
let daemon: RunningDaemon;
let client: DaemonClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-'));
  engine = new FakeEngine({ now: Date.now });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000 });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
  const shop = project('shop', [svc('web', { replicas: 2 })]);
  await client.operation('/v1/projects/shop/up', { project: shop, services: [], build: 'auto', wait: false }, () => undefined);
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

const rejects = async (body: unknown, action: string, code: string): Promise<void> => {
  await assert.rejects(client.request('POST', `/v1/projects/shop/${action}`, body), (err: unknown) => err instanceof CmeshError && err.code === code);
};

test('kill SIGKILLs the replica’s running container and names it', async () => {
  const web1 = (await client.request<ReplicaStatus[]>('GET', '/v1/projects/shop/ps')).find((r) => r.service === 'web' && r.replica === 1)!;
  const result = await client.request<KillReplicaResult>('POST', '/v1/projects/shop/kill', { service: 'web', replica: 1 });
  assert.deepEqual([result.killed, result.replacedBy], [web1.name, 'supervisor']);
  assert.deepEqual(engine.callsOf('killContainer').at(-1)?.args, [web1.container, 'SIGKILL']);
});

test('drain sets and clears the replica’s draining flag in the service table', async () => {
  const draining = async (): Promise<boolean | undefined> =>
    (await client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop'))[0]?.replicas.find((r) => r.replica === 2)?.draining;
  assert.deepEqual(await client.request('POST', '/v1/projects/shop/drain', { service: 'web', replica: 2, drained: true }), {
    service: 'web',
    replica: 2,
    drained: true,
  });
  assert.equal(await draining(), true);
  await client.request('POST', '/v1/projects/shop/drain', { service: 'web', replica: 2, drained: false });
  assert.equal(await draining(), false);
});

test('bad bodies and unknown replicas are typed errors', async () => {
  await rejects({ service: 'web' }, 'kill', 'CMESH_E_DAEMON_PROTOCOL');
  await rejects({ service: 'web', replica: 0 }, 'kill', 'CMESH_E_DAEMON_PROTOCOL');
  await rejects({ service: 'web', replica: 9 }, 'kill', 'CMESH_E_SERVICE_NOT_FOUND');
  await rejects({ service: 'web', replica: 1 }, 'drain', 'CMESH_E_DAEMON_PROTOCOL');
  await rejects({ service: 'nope', replica: 1, drained: true }, 'drain', 'CMESH_E_SERVICE_NOT_FOUND');
});
