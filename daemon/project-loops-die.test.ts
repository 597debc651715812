// The engine's `die` reaches the mesh straight from the event stream (not at the next observe): ProjectLoops hands it
// to ProjectMesh.runEnded for the project the container is labelled with, and nothing else does.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeEngine } from './engine/fake-engine.ts';
import type { ProjectMesh } from './project-mesh.ts';
import { SHARED_GATEWAY_LABEL } from './gateway-shared.ts';
import { ProjectLoops } from './project-loops.ts';
import { sleep } from './reconcile/wait.ts';

test("a container's die is told to the mesh at once, with its project and id; its other events are not", async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  const ended: [string, string][] = [];
  const mesh = { runEnded: (project: string, container: string) => ended.push([project, container]) } as unknown as ProjectMesh;
  const loops = new ProjectLoops({ engine, emit: () => {}, desired: () => undefined, mesh });
  loops.watch();
  try {
    const labels = { 'dev.cmesh.project': 'demo', 'dev.cmesh.service': 'web', 'dev.cmesh.replica': '1', 'dev.cmesh.managed': 'true' };
    const spec = { name: 'demo-web-1', image: 'x', env: {}, labels, ports: [], mounts: [], networks: [], init: false };
    await sleep(20); // the subscription is open
    const { id } = await engine.createContainer(spec);
    await engine.startContainer(id);
    const { id: stranger } = await engine.createContainer({ ...spec, name: 'other', labels: {} });
    await engine.startContainer(stranger);
    engine.simulateExit(stranger, 1);
    engine.simulateExit(id, 137);
    for (let i = 0; i < 100 && ended.length === 0; i++) await sleep(5);
    assert.deepEqual(ended, [['demo', id]]);
  } finally {
    await loops.close();
  }
});

test("the shared gateway's die or removal wakes every project's loop (each starts it again); its start wakes none", async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  const woken: string[] = [];
  class Loops extends ProjectLoops {
    override wake(name: string, reason: string): void {
      if (reason.startsWith('shared gateway')) woken.push(`${name}: ${reason}`);
    }
  }
  const loops = new Loops({ engine, emit: () => {}, desired: () => undefined });
  loops.ensure('one');
  loops.ensure('two');
  loops.watch();
  try {
    const labels = { 'dev.cmesh.managed': 'true', 'dev.cmesh.role': 'gateway', [SHARED_GATEWAY_LABEL]: '0123456789ab' };
    const spec = { name: 'cmesh-gateway-0123456789ab', image: 'x', env: {}, labels, ports: [], mounts: [], networks: [], init: false };
    await sleep(20); // the subscription is open
    const { id } = await engine.createContainer(spec);
    await engine.startContainer(id);
    engine.simulateExit(id, 137);
    for (let i = 0; i < 100 && woken.length < 2; i++) await sleep(5);
    await engine.removeContainer(id, { force: true });
    for (let i = 0; i < 100 && woken.length < 4; i++) await sleep(5);
    assert.deepEqual(woken.sort(), ['one: shared gateway destroy', 'one: shared gateway die', 'two: shared gateway destroy', 'two: shared gateway die']);
  } finally {
    await loops.close();
  }
});
