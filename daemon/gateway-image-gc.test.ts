// Gateway image garbage collection on an engine shared by several daemons: only labelled cmesh/gateway images of
// other versions that no container (any state) uses and that no daemon built or claimed within the grace period go.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerCreateSpec } from './api/engine.ts';
import { Labels } from './api/labels.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { ensureImageOf } from './gateway-image.ts';
import { claimGatewayImage, DEFAULT_GRACE_MS, gatewayImageGc, gatewayImageGrace, removeStaleGatewayImages } from './gateway-image-gc.ts';

const GW = { [Labels.managed]: 'true', [Labels.role]: 'gateway-image' };
const HOUR = 3_600_000;
const spec = (name: string, image: string): ContainerCreateSpec => ({ name, image, env: {}, labels: {}, ports: [], mounts: [], networks: [], init: false });

test('removes unused gateway images of other versions; keeps the current, the used, the unlabelled and other repos', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:current', GW);
  engine.addImage('cmesh/gateway:old1', GW);
  engine.addImage('cmesh/gateway:old2', GW);
  engine.addImage('cmesh/gateway:foreign');
  engine.addImage('other/thing:1', GW);
  // A stopped container of some project still made from old2: it stays.
  await engine.createContainer(spec('p-cmesh-gateway', 'cmesh/gateway:old2'));
  engine.advance(HOUR);
  const lines: string[] = [];
  const gc = { log: (l: string) => lines.push(l), now: () => engine.now() };
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', gc), { removed: ['cmesh/gateway:old1'] });
  for (const kept of ['cmesh/gateway:current', 'cmesh/gateway:old2', 'cmesh/gateway:foreign', 'other/thing:1']) {
    assert.ok(await engine.inspectImage(kept), `${kept} kept`);
  }
  assert.equal(await engine.inspectImage('cmesh/gateway:old1'), undefined);
  assert.deepEqual(lines, ['gateway image cleanup: removed cmesh/gateway:old1 (not used by any container)'], 'an image in use is not news');
  // Nothing left to do: a second run removes nothing and says nothing.
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', gc), { removed: [] });
  assert.equal(lines.length, 1);
});

test('an image another daemon just built (no container yet) is kept until the grace period is over, then goes', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:current', GW);
  engine.advance(HOUR);
  // Another cmesh version's daemon built its image a minute ago and is about to create its gateway from it.
  engine.addImage('cmesh/gateway:theirs', GW);
  engine.advance(60_000);
  const lines: string[] = [];
  const gc = { log: (l: string) => lines.push(l), now: () => engine.now() };
  const first = await removeStaleGatewayImages(engine, 'cmesh/gateway:current', gc);
  assert.deepEqual(first.removed, []);
  assert.ok(await engine.inspectImage('cmesh/gateway:theirs'), 'a just-built image stays');
  assert.equal(first.retryAt, engine.now() - 60_000 + DEFAULT_GRACE_MS, 'looked at again when its grace period ends');
  assert.match(lines[0] ?? '', /kept cmesh\/gateway:theirs \(built or claimed by a daemon less than 600 s ago/);
  // Its daemon went away without making a gateway: the later sweep removes it.
  engine.advance(first.retryAt! - engine.now());
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', gc), { removed: ['cmesh/gateway:theirs'] });
});

test('an old image another live daemon claimed (tagged again) is kept; its unclaimed twin goes', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:current', GW);
  engine.addImage('cmesh/gateway:claimed', GW);
  engine.addImage('cmesh/gateway:abandoned', GW);
  engine.advance(24 * HOUR);
  // The other daemon found its (day-old) image and is about to create a gateway: it claims it first.
  const found = await engine.inspectImage('cmesh/gateway:claimed');
  assert.equal(await claimGatewayImage(engine, 'cmesh/gateway:claimed', found!, { now: () => engine.now() }), true);
  engine.advance(1000);
  const result = await removeStaleGatewayImages(engine, 'cmesh/gateway:current', { now: () => engine.now() });
  assert.deepEqual(result.removed, ['cmesh/gateway:abandoned']);
  assert.ok(await engine.inspectImage('cmesh/gateway:claimed'));
  assert.equal(result.retryAt, engine.now() - 1000 + DEFAULT_GRACE_MS);
  // A claim younger than half the period is not renewed: one tag call per five minutes, not per look-up.
  const again = await engine.inspectImage('cmesh/gateway:claimed');
  assert.equal(await claimGatewayImage(engine, 'cmesh/gateway:claimed', again!, { now: () => engine.now() }), false);
  assert.equal(engine.callsOf('tagImage').length, 1);
});

test('an image a created container uses is kept even where the engine would only untag it (it has another tag)', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:current', GW);
  engine.addImage('cmesh/gateway:old', GW);
  // A user pinned it under a name of their own; another daemon's gateway was created (not started) from it.
  await engine.tagImage('cmesh/gateway:old', 'me/pinned:1');
  await engine.createContainer(spec('other-cmesh-gateway', 'cmesh/gateway:old'));
  engine.advance(HOUR);
  assert.deepEqual(await removeStaleGatewayImages(engine, 'cmesh/gateway:current', { now: () => engine.now() }), { removed: [] });
  assert.deepEqual((await engine.inspectImage('cmesh/gateway:old'))?.tags.sort(), ['cmesh/gateway:old', 'me/pinned:1']);
  assert.equal(engine.callsOf('removeImage').length, 0, 'not even tried');
});

test('a daemon that finds its image present claims it before its gateway is made from it', async () => {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:mine', GW);
  engine.advance(HOUR);
  const inputs = { tag: 'cmesh/gateway:mine', files: [], identity: 'init:rt:x', hostNode: true };
  assert.equal(await ensureImageOf({ engine, env: {} }, inputs), 'cmesh/gateway:mine');
  assert.deepEqual(engine.callsOf('tagImage').map((c) => c.args), [['cmesh/gateway:mine', 'cmesh/gateway:mine']]);
  assert.equal((await engine.inspectImage('cmesh/gateway:mine'))?.lastTagTime, engine.now());
  // With no grace period (CMESH_GATEWAY_IMAGE_GRACE=0s) there is nothing to claim.
  engine.advance(HOUR);
  await ensureImageOf({ engine, env: { CMESH_GATEWAY_IMAGE_GRACE: '0s' } }, inputs);
  assert.equal(engine.callsOf('tagImage').length, 1);
});

test('CMESH_GATEWAY_IMAGE_GC: on by default, off, or limited to images with one more label; the grace period', async () => {
  assert.deepEqual(gatewayImageGc({}), {});
  assert.deepEqual(gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'on' }), {});
  assert.equal(gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'off' }), undefined);
  assert.deepEqual(gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'dev.cmesh.test-run=r1' }), { 'dev.cmesh.test-run': 'r1' });
  assert.throws(() => gatewayImageGc({ CMESH_GATEWAY_IMAGE_GC: 'sometimes' }), (e: Error & { code?: string }) => e.code === 'CMESH_E_CONFIG');
  assert.equal(gatewayImageGrace({}), DEFAULT_GRACE_MS);
  assert.equal(gatewayImageGrace({ CMESH_GATEWAY_IMAGE_GRACE: '30m' }), 30 * 60_000);
  assert.equal(gatewayImageGrace({ CMESH_GATEWAY_IMAGE_GRACE: '0s' }), 0);
  assert.throws(() => gatewayImageGrace({ CMESH_GATEWAY_IMAGE_GRACE: 'soon' }), (e: Error & { code?: string }) => e.code === 'CMESH_E_CONFIG');
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('cmesh/gateway:mine', { ...GW, 'dev.cmesh.test-run': 'r1' });
  engine.addImage('cmesh/gateway:theirs', GW);
  const scoped = await removeStaleGatewayImages(engine, 'cmesh/gateway:current', { scope: { 'dev.cmesh.test-run': 'r1' }, graceMs: 0, now: () => engine.now() });
  assert.deepEqual(scoped.removed, ['cmesh/gateway:mine']);
  assert.ok(await engine.inspectImage('cmesh/gateway:theirs'));
});
