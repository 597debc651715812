// rollingRestart on the fake engine: one replica of a service at a time, drained, and the next one waits until the
// pool serves the previous again; services go in parallel.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectLabels } from './api/labels.ts';
import { engineWithProject, recordingMesh } from './project-testing.ts';
import { desired, project, svc } from './reconcile/testing.ts';
import { requestStopTimeoutSec, rollingRestart } from './rolling-restart.ts';

const shop = desired(
  project('shop', [
    svc('web', { replicas: 2, stopGracePeriodMs: 2_000, ports: [{ target: 3000, published: 8080, protocol: 'tcp' }] }),
    svc('worker', { stopGracePeriodMs: 2_000 }),
  ]),
);

test('a proxied service restarts one replica at a time, each serving again before the next goes down', async () => {
  const log: string[] = [];
  const engine = await engineWithProject(shop, log);
  let polls = 0;
  // web-1 serves again on the third poll; nothing else is waited for.
  const mesh = recordingMesh(log, (ref) => {
    log.push(`serving? ${ref.name}`);
    return ++polls >= 3;
  });
  const web = await engine.listContainers({ labels: { ...projectLabels('shop'), 'dev.cmesh.service': 'web' }, all: true });
  let passes = 0;
  const ctx = { engine, mesh, project: 'shop', desired: () => shop, reconcileNow: async () => passes++ };
  await rollingRestart(ctx, [...web].reverse(), { services: ['web'], timeoutMs: 1_500 });
  assert.deepEqual(log, [
    'drain shop shop-web-1 1500ms',
    'stop shop-web-1 2s',
    'undrain shop shop-web-1',
    'start shop-web-1',
    'serving? shop-web-1',
    'serving? shop-web-1',
    'serving? shop-web-1',
    'drain shop shop-web-2 1500ms',
    'stop shop-web-2 2s',
    'undrain shop shop-web-2',
    'start shop-web-2',
    'serving? shop-web-2',
  ]);
  assert.equal(passes, 2, 'one pass per restarted replica before waiting, so the mesh sees its new port');
});

test('services restart in parallel; an unrouted service or a lone replica is not waited for', async () => {
  const log: string[] = [];
  const engine = await engineWithProject(shop, log);
  const mesh = recordingMesh(log, () => true);
  const all = await engine.listContainers({ labels: projectLabels('shop'), all: true });
  const ctx = { engine, mesh, project: 'shop', desired: () => shop, reconcileNow: async () => undefined };
  await rollingRestart(ctx, all, { services: [] });
  const steps = (name: string): string[] => log.filter((l) => l.endsWith(name) || l.includes(`${name} `));
  assert.deepEqual(steps('shop-worker-1'), ['drain shop shop-worker-1 2000ms', 'stop shop-worker-1', 'undrain shop shop-worker-1', 'start shop-worker-1']);
  assert.ok(log.indexOf('drain shop shop-worker-1 2000ms') < log.indexOf('start shop-web-1'), 'worker does not wait for web');
  assert.ok(!log.includes('serving? shop-worker-1'));
  for (const c of await engine.listContainers({ labels: projectLabels('shop'), all: true })) assert.equal(c.state, 'running');
});

test('requestStopTimeoutSec rounds the request timeout up to whole seconds', () => {
  assert.equal(requestStopTimeoutSec({ services: [] }), undefined);
  assert.equal(requestStopTimeoutSec({ services: [], timeoutMs: 1_001 }), 2);
  assert.equal(requestStopTimeoutSec({ services: [], timeoutMs: 0 }), 0);
});
