// attach: false keeps a service's logs out of the foreground `up` stream; everything else stays attached.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProjectSpec } from '../../daemon/api/project.ts';
import { loadProjectFromSources } from '../../daemon/config/load.ts';
import { attachedServices } from './up-attach.ts';

const load = (services: string): ProjectSpec => loadProjectFromSources([{ file: '/p/compose.yaml', text: `name: p\nservices:\n${services}` }]).project;

test('all services attached: the daemon default (undefined); attach: false ones are left out', () => {
  assert.equal(attachedServices(load('  a: {image: x}\n  b: {image: x, attach: true}\n'), []), undefined);
  assert.deepEqual(attachedServices(load('  a: {image: x}\n  b: {image: x, attach: false}\n'), []), ['a']);
});

test('requested services keep their order, minus attach: false; all detached gives an empty list', () => {
  const p = load('  a: {image: x}\n  b: {image: x, attach: false}\n  c: {image: x}\n');
  assert.deepEqual(attachedServices(p, ['c', 'b', 'a']), ['c', 'a']);
  assert.deepEqual(attachedServices(p, ['b']), []);
});
