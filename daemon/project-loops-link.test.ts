// A container's network links and pauses reach the mesh straight from the event stream, like `die`
// (project-loops-die.test.ts): a link event carries no labels, so the mesh names the project whose loop to wake.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeEngine } from './engine/fake-engine.ts';
import type { ProjectMesh } from './project-mesh.ts';
import { ProjectLoops } from './project-loops.ts';
import { sleep } from './reconcile/wait.ts';

const labels = { 'dev.cmesh.project': 'demo', 'dev.cmesh.service': 'web', 'dev.cmesh.replica': '1', 'dev.cmesh.managed': 'true' };
const spec = { name: 'demo-web-1', image: 'x', env: {}, labels, ports: [], mounts: [], networks: [], init: false };

test("a container's network disconnect and connect are told to the mesh, and wake the project it names", async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  const links: [string, string, boolean][] = [];
  const mesh = {
    // The mesh reaches only `id` on demo_default (a direct replica); anything else is not its business.
    linkChanged: (container: string, network: string, up: boolean) => {
      links.push([container, network, up]);
      return container === id && network === 'demo_default' ? 'demo' : undefined;
    },
  } as unknown as ProjectMesh;
  const loops = new ProjectLoops({ engine, emit: () => {}, desired: () => undefined, mesh });
  const woken: string[] = [];
  (loops as unknown as { wake: (name: string, reason: string) => void }).wake = (name, reason) => woken.push(`${name}: ${reason}`);
  let id = '';
  loops.watch();
  try {
    await engine.createNetwork({ name: 'demo_default', labels: {} });
    await engine.createNetwork({ name: 'elsewhere', labels: {} });
    await sleep(20); // the subscription is open
    ({ id } = await engine.createContainer(spec));
    await engine.startContainer(id);
    await engine.connectNetwork(id, 'elsewhere', []);
    await engine.connectNetwork(id, 'demo_default', []);
    await engine.disconnectNetwork(id, 'demo_default');
    for (let i = 0; i < 100 && links.length < 3; i++) await sleep(5);
    assert.deepEqual(links, [
      [id, 'elsewhere', true],
      [id, 'demo_default', true],
      [id, 'demo_default', false],
    ]);
    assert.ok(woken.includes('demo: engine network connect'), JSON.stringify(woken));
    assert.ok(woken.includes('demo: engine network disconnect'), JSON.stringify(woken));
  } finally {
    await loops.close();
  }
});

test("a container's pause and unpause are told to the mesh at once, with its project and id", async () => {
  const engine = new FakeEngine({ now: () => Date.now() });
  const paused: [string, string, boolean][] = [];
  const mesh = { runPaused: (project: string, container: string, p: boolean) => paused.push([project, container, p]) } as unknown as ProjectMesh;
  const loops = new ProjectLoops({ engine, emit: () => {}, desired: () => undefined, mesh });
  loops.watch();
  try {
    await sleep(20);
    const { id } = await engine.createContainer(spec);
    await engine.startContainer(id);
    await engine.pauseContainer(id);
    await engine.unpauseContainer(id);
    for (let i = 0; i < 100 && paused.length < 2; i++) await sleep(5);
    assert.deepEqual(paused, [
      ['demo', id, true],
      ['demo', id, false],
    ]);
  } finally {
    await loops.close();
  }
});
