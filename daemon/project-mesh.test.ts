// project-mesh: the loop's mesh hooks carry the project name, rollout hooks only when the mesh has them, and the
// manager's own stops are drained (and undrained even when the stop fails).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from './api/errors.ts';
import { drainedStop, loopMeshHooks } from './project-mesh.ts';
import { recordingMesh } from './project-testing.ts';
import { ctr, desired, project, svc } from './reconcile/testing.ts';

const shop = desired(project('shop', [svc('web', { replicas: 2, stopGracePeriodMs: 4_000 })]));
const ref = { id: 'c-web-1', name: 'shop-web-1', service: 'web', replica: 1 };

test('loopMeshHooks: nothing without a mesh; observations only while the project is desired; drains carry the project', async () => {
  assert.deepEqual(loopMeshHooks(undefined, 'shop', () => shop), {});
  const log: string[] = [];
  let current: typeof shop | undefined = shop;
  const hooks = loopMeshHooks(recordingMesh(log), 'shop', () => current);
  assert.equal(hooks.rolloutHooks, undefined, 'no start-first rollouts without rolloutWaitHealthy');
  hooks.onObserved?.([ctr(shop, 'web', 1)]);
  current = undefined;
  hooks.onObserved?.([ctr(shop, 'web', 1)]);
  await hooks.stopHooks?.beforeStop(ref, 1_000);
  hooks.stopHooks?.afterStop(ref, true);
  assert.deepEqual(log, ['observed shop 1', 'drain shop shop-web-1 1000ms', 'undrain shop shop-web-1 removed']);
});

test('loopMeshHooks: rollout hooks go to the mesh with the project name', async () => {
  const log: string[] = [];
  const mesh = {
    ...recordingMesh(log),
    rolloutWaitHealthy: async (p: string, next: typeof ref, _e: unknown, timeoutMs: number) => {
      log.push(`wait ${p} ${next.name} ${timeoutMs}`);
      return true;
    },
    rolloutPromote: (p: string, next: typeof ref) => void log.push(`promote ${p} ${next.name}`),
  };
  const hooks = loopMeshHooks(mesh, 'shop', () => shop).rolloutHooks;
  assert.ok(hooks);
  assert.equal(await hooks.waitHealthy(ref, [], 500), true);
  hooks.discard(ref); // the mesh has no rolloutDiscard: a no-op
  hooks.promote(ref);
  assert.deepEqual(log, ['wait shop shop-web-1 500', 'promote shop shop-web-1']);
});

test('drainedStop: a running replica is drained for its grace (request timeout first, at most 30 s), then undrained', async () => {
  const log: string[] = [];
  const ctx = { mesh: recordingMesh(log), project: 'shop', desired: () => shop };
  const stop = async (): Promise<void> => void log.push('stop');
  await drainedStop(ctx, ctr(shop, 'web', 1), { services: [] }, stop);
  await drainedStop(ctx, ctr(shop, 'web', 2), { services: [], timeoutMs: 60_000 }, stop);
  await drainedStop(ctx, ctr(shop, 'web', 2, { state: 'exited' }), { services: [] }, stop);
  await drainedStop({ ...ctx, mesh: undefined }, ctr(shop, 'web', 1), { services: [] }, stop);
  assert.deepEqual(log, [
    'drain shop shop-web-1 4000ms',
    'stop',
    'undrain shop shop-web-1',
    'drain shop shop-web-2 30000ms',
    'stop',
    'undrain shop shop-web-2',
    'stop', // not running: nothing to drain
    'stop', // no mesh
  ]);
});

test('drainedStop: a failed stop still lets the replica back into the pool', async () => {
  const log: string[] = [];
  const ctx = { mesh: recordingMesh(log), project: 'shop', desired: () => shop };
  const failing = async (): Promise<void> => {
    throw new CmeshError('CMESH_E_ENGINE', 'stop failed');
  };
  await assert.rejects(drainedStop(ctx, ctr(shop, 'web', 1), { services: [] }, failing), /stop failed/);
  assert.deepEqual(log, ['drain shop shop-web-1 4000ms', 'undrain shop shop-web-1']);
});
