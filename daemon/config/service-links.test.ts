// volumes_from, links and external_links: normalized forms, implicit depends_on, link aliases, and what the engine gets.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerTemplate } from '../reconcile/container-spec.ts';
import { load, loadError, where } from './test-helpers.ts';

test('volumes_from: service and container forms with modes, an implicit depends_on, first replica at the engine', () => {
  const { project } = load('name: p\nservices:\n  data: {image: x}\n  web:\n    image: x\n    volumes_from: [data, "data:ro", "container:other:rw"]\n');
  const web = project.services['web']!;
  assert.deepEqual(web.options?.volumesFrom, ['service:data', 'service:data:ro', 'container:other:rw']);
  assert.deepEqual(web.dependsOn['data'], { condition: 'service_started', restart: false, required: true });
  assert.deepEqual(containerTemplate(project, web).options?.volumesFrom, ['p-data-1', 'p-data-1:ro', 'other:rw']);
});

test('volumes_from refusals: itself, bad mode, an unknown service (with line:col)', () => {
  assert.deepEqual(where(loadError('services:\n  web:\n    image: x\n    volumes_from: [web]\n')), ['4:20 services.web.volumes_from[0]']);
  assert.match(loadError('services:\n  web:\n    image: x\n    volumes_from: ["a:rx"]\n').issues[0]?.message ?? '', /invalid volumes_from "a:rx"/);
  assert.match(loadError('services:\n  web:\n    image: x\n    volumes_from: [nope]\n').issues[0]?.message ?? '', /depends on undefined service "nope"/);
});

test('links: implicit depends_on and the alias on the networks both services share; external_links as endpoint links', () => {
  const { project, warnings } = load(
    'name: p\nservices:\n  db:\n    image: x\n    networks: [back, other]\n  web:\n    image: x\n    networks: [back]\n    links: ["db:database", db]\n    external_links: ["legacy:old", solo]\nnetworks:\n  back: {}\n  other: {}\n',
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(project.services['web']?.dependsOn['db']?.condition, 'service_started');
  assert.deepEqual(project.services['db']?.networks, { back: { aliases: ['database'] }, other: { aliases: [] } });
  const endpoints = containerTemplate(project, project.services['web']!).networks;
  assert.deepEqual(endpoints, [{ name: 'p_back', aliases: ['web'], links: ['legacy:old', 'solo:solo'] }]);
  assert.deepEqual(where(loadError('services:\n  web:\n    image: x\n    links: [web]\n')), ['4:13 services.web.links[0]']);
});
