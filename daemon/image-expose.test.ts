// The image's EXPOSE joins the east-west ports once `up` has the image: TCP only, per connection, opt-outs untouched.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eastWestPlan } from './api/east-west.ts';
import { parseExposedPorts } from './api/engine.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { withImageExpose } from './image-expose.ts';
import { project, svc } from './reconcile/testing.ts';

const MESH = svc('x').mesh;

function engineWithImages(): FakeEngine {
  const engine = new FakeEngine({ strictImages: true });
  engine.addImage('pg:16', {}, [
    { port: 5432, protocol: 'tcp' },
    { port: 5432, protocol: 'udp' },
  ]);
  engine.addImage('dns:1', {}, [{ port: 53, protocol: 'udp' }]);
  engine.addImage('web:1', {}, [{ port: 8080, protocol: 'tcp' }]);
  return engine;
}

test('parseExposedPorts: the engine keys, a bare port is TCP, junk is skipped, sorted', () => {
  assert.deepEqual(parseExposedPorts({ '5432/tcp': {}, '53/udp': {}, '80': {}, 'x/tcp': {}, '70000/tcp': {}, '9/SCTP': {} }), [
    { port: 9, protocol: 'sctp' },
    { port: 53, protocol: 'udp' },
    { port: 80, protocol: 'tcp' },
    { port: 5432, protocol: 'tcp' },
  ]);
  assert.deepEqual(parseExposedPorts(null), []);
});

test('a postgres-like image with EXPOSE 5432 and no ports in compose is meshed per connection after up reads it', async () => {
  const services = [
    svc('db', { image: 'pg:16' }),
    svc('dns', { image: 'dns:1' }),
    svc('web', { image: 'web:1', mesh: { ...MESH, eastWest: false } }),
    svc('gone', { image: 'missing:1' }),
  ];
  const before = project('p', services, { eastWest: true });
  // cmesh config's view: nothing known yet, and the reason says EXPOSE is read at up.
  const config = eastWestPlan(before);
  assert.deepEqual(config.services, []);
  assert.match(config.skipped.find((s) => s.service === 'db')!.reason, /EXPOSE is read at up/);

  const after = await withImageExpose(engineWithImages(), before);
  assert.deepEqual(Object.keys(after.services), Object.keys(before.services), 'service order kept');
  assert.deepEqual(after.services['db']!.imageExpose, [5432]);
  assert.deepEqual(after.services['dns']!.imageExpose, [], 'UDP is not meshed');
  assert.equal(after.services['web']!.imageExpose, undefined, 'an opted-out service is not read');
  assert.equal(after.services['gone']!.imageExpose, undefined, 'an image that is not local stays unknown');
  const plan = eastWestPlan(after);
  assert.deepEqual(plan.services, [{ name: 'db', ports: [{ port: 5432, protocol: 'tcp' }], probePort: 5432, gateway: 0 }]);
  assert.match(plan.skipped.find((s) => s.service === 'dns')!.reason, /no known container port, the image's EXPOSE included/);
});

test('without east-west the project is returned as it is (no engine calls)', async () => {
  const p = project('p', [svc('db', { image: 'pg:16' })]);
  assert.equal(await withImageExpose(engineWithImages(), p), p);
});
