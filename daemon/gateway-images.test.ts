// The daemon's gateway image handle sweeps other versions' images once, and again when an image it kept for its age
// (built or claimed by another daemon within the grace period) may go; close() ends that.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Labels } from './api/labels.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { gatewayImageInputs } from './gateway-image.ts';
import { GatewayImages } from './gateway-images.ts';

const GW = { [Labels.managed]: 'true', [Labels.role]: 'gateway-image' };
const env = { ...process.env, CMESH_GATEWAY_BASE_IMAGE: '', CMESH_GATEWAY_IMAGE_GC: 'on', CMESH_GATEWAY_IMAGE_GRACE: '1s' };

/** The current image present already (no build to wait for) and another version's, built just now. */
async function engineWithYoungImage(): Promise<FakeEngine> {
  const engine = new FakeEngine({ strictImages: true, now: Date.now });
  // Hashed once here; the handle's own look-up then finds the node's digest cached in this process (file-digest.ts).
  engine.addImage((await gatewayImageInputs({ engine, env })).tag, GW);
  engine.addImage('cmesh/gateway:young', GW);
  return engine;
}

async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an image kept young at the first sweep is removed by a later one once its grace period is over', { skip: process.platform !== 'linux' && 'needs ldd' }, async () => {
  const engine = await engineWithYoungImage();
  const lines: string[] = [];
  const images = new GatewayImages({ engine, env, log: (l) => lines.push(l) });
  try {
    await (await images.get()).present;
    await until('the first sweep', 5000, async () => lines.some((l) => l.includes('kept cmesh/gateway:young')));
    assert.ok(await engine.inspectImage('cmesh/gateway:young'), 'kept by the first sweep');
    await until('the later sweep', 5000, async () => (await engine.inspectImage('cmesh/gateway:young')) === undefined);
    assert.ok(lines.some((l) => l === 'gateway image cleanup: removed cmesh/gateway:young (not used by any container)'));
  } finally {
    images.close();
  }
});

test('close() cancels the later sweep', { skip: process.platform !== 'linux' && 'needs ldd' }, async () => {
  const engine = await engineWithYoungImage();
  const lines: string[] = [];
  const images = new GatewayImages({ engine, env, log: (l) => lines.push(l) });
  await (await images.get()).present;
  await until('the first sweep', 5000, async () => lines.some((l) => l.includes('kept cmesh/gateway:young')));
  images.close();
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(await engine.inspectImage('cmesh/gateway:young'), 'no sweep after close');
  assert.equal(engine.callsOf('listImages').length, 1);
});
