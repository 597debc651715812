// Gateway image garbage collection: only labelled cmesh/gateway images of other versions that no container uses go.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Labels } from './api/labels.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { gatewayImageGc, removeStaleGatewayImages } from './gateway-image.ts';

const GW = { [Labels.managed]: 'true', [Labels.role]: 'gateway-image' };

test('removes unused gateway images of other versions; keeps the current, the used, the unlabelled and other repos', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:current', GW);
  engine.addImage('cmesh/gateway:old1', GW);
  engine.addImage('cmesh/gateway:old2', GW);
  engine.addImage('cmesh/gateway:foreign');
  engine.addImage('other/thing:1', GW);
  // A stopped container of some project still made from old2: the engine refuses, and it stays.
  await engine.createContainer({ name: 'p-cmesh-gateway', image: 'cmesh/gateway:old2', env: {}, labels: {}, ports: [], mounts: [], networks: [], init: false });
  const lines: string[] = [];
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', (l) => lines.push(l)), ['cmesh/gateway:old1']);
  for (const kept of ['cmesh/gateway:current', 'cmesh/gateway:old2', 'cmesh/gateway:foreign', 'other/thing:1']) {
    assert.ok(await engine.inspectImage(kept), `${kept} kept`);
  }
  assert.equal(await engine.inspectImage('cmesh/gateway:old1'), undefined);
  assert.deepEqual(lines, ['gateway image cleanup: removed cmesh/gateway:old1 (not used by any container)'], 'an image in use is not news');
  // Nothing left to do: a second run removes nothing and says nothing.
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', (l) => lines.push(l)), []);
  assert.equal(lines.length, 1);
});

test('CMESH_GATEWAY_IMAGE_GC: on by default, off, or limited to images with one more label', async () => {
  assert.deepEqual(gatewayImageGc({}), {});
  assert.deepEqual(gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'on' }), {});
  assert.equal(gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'off' }), undefined);
  assert.deepEqual(gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'dev.cmesh.test-run=r1' }), { 'dev.cmesh.test-run': 'r1' });
  assert.throws(() => gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'sometimes' }), (e: Error & { code?: string }) => e.code === 'CMESH_E_CONFIG');
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:mine', { ...GW, 'dev.cmesh.test-run': 'r1' });
  engine.addImage('cmesh/gateway:theirs', GW);
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', undefined, { 'dev.cmesh.test-run': 'r1' }), ['cmesh/gateway:mine']);
  assert.ok(await engine.inspectImage('cmesh/gateway:theirs'));
});
