// `up --wait` readiness of replicas without a healthcheck whose start the daemon did not see (it adopted them after
// its own restart): the container list's status (`Up 5 seconds`) proves how long they have run, so a no-op wait does
// not pay the settle period again, and no container is inspected for it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerCreateSpec } from '../api/engine.ts';
import { Labels, projectLabels } from '../api/labels.ts';
import { FakeEngine } from '../engine/fake-engine.ts';
import { waitReady } from './ready.ts';
import { desired, project, svc } from './testing.ts';

const d = desired(project('demo', [svc('web', { replicas: 2 })]));
const never = () => ({ kind: 'none' as const, reason: 'test' });

async function running(engine: FakeEngine): Promise<void> {
  for (const replica of [1, 2]) {
    const labels = { ...projectLabels('demo'), [Labels.service]: 'web', [Labels.replica]: String(replica) };
    const spec: ContainerCreateSpec = { name: `demo-web-${replica}`, image: 'example/web:1', env: {}, labels, ports: [], mounts: [], networks: [], init: false };
    await engine.startContainer((await engine.createContainer(spec)).id);
  }
}

test('adopted replicas the list shows up for 5 s are ready at the first look: one list, no settle wait, no inspect', async () => {
  const engine = new FakeEngine();
  await running(engine);
  engine.advance(5000);
  const started = Date.now();
  const seen = await waitReady(engine, d, never, { services: [], timeoutMs: 5000, settleMs: 1000, runningSince: () => undefined });
  assert.equal(seen.length, 2);
  assert.equal(engine.callsOf('listContainers').length, 1, 'judged on the first list');
  assert.equal(engine.callsOf('inspectContainer').length, 0);
  assert.ok(Date.now() - started < 1000, `answered before a settle period (${Date.now() - started} ms)`);
});

test('replicas the list shows up for less than the settle period still wait it out', async () => {
  const engine = new FakeEngine();
  await running(engine);
  engine.advance(500);
  const started = Date.now();
  await waitReady(engine, d, never, { services: [], timeoutMs: 5000, settleMs: 300, pollMs: 20, runningSince: () => undefined });
  assert.ok(Date.now() - started >= 300, 'a run of 0.5 s on a 1 s status grain proves nothing beyond this wait');
  assert.ok(engine.callsOf('listContainers').length >= 2);
});
