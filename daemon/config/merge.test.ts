// Multi-file merges with Compose's override rules, through loadProjectFromSources.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadProjectFromSources } from './load.ts';

function merged(...texts: string[]) {
  return loadProjectFromSources(texts.map((text, i) => ({ file: `/proj/f${i}.yaml`, text })), {}).project;
}

const BASE = `
services:
  web:
    image: web:1
    command: ["npm", "start"]
    entrypoint: /init
    environment:
      A: "1"
      B: "1"
    labels: [one=1]
    ports: ["8080:80", "9090:90"]
    expose: ["3000"]
    volumes: ["./a:/data", "./logs:/logs"]
    depends_on: [db]
    networks: [front]
    healthcheck:
      test: ["CMD", "true"]
      interval: 5s
    build:
      context: .
      args: {X: "1"}
  db:
    image: postgres
networks:
  front: {}
  back: {}
`;

test('scalars replace, maps deep-merge, env/labels merge by key across list and map forms', () => {
  const p = merged(BASE, 'services:\n  web:\n    image: web:2\n    environment: ["B=2", "C=3"]\n    labels: {two: "2"}\n');
  const web = p.services['web']!;
  assert.equal(web.image, 'web:2');
  assert.deepEqual(web.environment, { A: '1', B: '2', C: '3' });
  assert.deepEqual(web.labels, { one: '1', two: '2' });
});

test('command, entrypoint and healthcheck.test replace; other healthcheck keys merge', () => {
  const web = merged(BASE, 'services:\n  web:\n    command: npm run dev\n    healthcheck:\n      test: curl -f http://localhost/\n')
    .services['web']!;
  assert.deepEqual(web.command, ['npm', 'run', 'dev']);
  assert.deepEqual(web.entrypoint, ['/init']);
  assert.deepEqual(web.healthcheck?.test, ['CMD-SHELL', 'curl -f http://localhost/']);
  assert.equal(web.healthcheck?.intervalMs, 5000);
});

test('ports and expose append unique', () => {
  const web = merged(BASE, 'services:\n  web:\n    ports: ["8080:80", "7070:70"]\n    expose: [3000, 4000]\n').services['web']!;
  assert.deepEqual(web.ports.map((p) => p.published), [8080, 9090, 7070]);
  assert.deepEqual(web.expose, [3000, 4000]);
});

test('volumes merge by target', () => {
  const web = merged(BASE, 'services:\n  web:\n    volumes:\n      - ./b:/data:ro\n      - type: bind\n        source: ./cache\n        target: /cache\n').services['web']!;
  assert.deepEqual(web.volumes.map((v) => [v.source, v.target, v.readOnly]), [
    ['/proj/logs', '/logs', false],
    ['/proj/b', '/data', true],
    ['/proj/cache', '/cache', false],
  ]);
});

test('depends_on and networks merge by name across list and map forms', () => {
  const web = merged(BASE, 'services:\n  cache:\n    image: redis\n  web:\n    depends_on:\n      cache: {condition: service_healthy}\n    networks:\n      back: {aliases: [w]}\n').services['web']!;
  assert.deepEqual(Object.keys(web.dependsOn).sort(), ['cache', 'db']);
  assert.equal(web.dependsOn['cache']?.condition, 'service_healthy');
  assert.deepEqual(web.networks, { front: { aliases: [] }, back: { aliases: ['w'] } });
});

test('build args merge by key', () => {
  const web = merged(BASE, 'services:\n  web:\n    build:\n      args: [Y=2]\n').services['web']!;
  assert.deepEqual(web.build?.args, { X: '1', Y: '2' });
});

test('!reset removes a value and !override replaces instead of merging', () => {
  const web = merged(BASE, 'services:\n  web:\n    ports: !reset []\n    environment: !override\n      ONLY: "1"\n    depends_on: !reset\n').services['web']!;
  assert.deepEqual(web.ports, []);
  assert.deepEqual(web.environment, { ONLY: '1' });
  assert.deepEqual(web.dependsOn, {});
});

test('!reset of a whole service in an override drops it', () => {
  const p = merged(BASE, 'services:\n  db: !reset\n  web:\n    depends_on: !reset []\n');
  assert.deepEqual(Object.keys(p.services), ['web']);
});

test('three files fold in order; positions point into the file that set the value', () => {
  const files = [BASE, 'services:\n  web:\n    image: web:2\n', 'services:\n  web:\n    restart: sometimes\n'];
  try {
    loadProjectFromSources(files.map((text, i) => ({ file: `/proj/f${i}.yaml`, text })));
    assert.fail('should fail');
  } catch (err) {
    const issue = (err as { issues: { position?: { file: string; line: number } }[] }).issues[0];
    assert.deepEqual([issue?.position?.file, issue?.position?.line], ['/proj/f2.yaml', 3]);
  }
});

test('project name and top-level sections merge, last name wins', () => {
  const p = merged('name: first\nservices:\n  a:\n    image: a\nvolumes:\n  v1: {}\n', 'name: second\nvolumes:\n  v2: {external: true}\n');
  assert.equal(p.name, 'second');
  assert.deepEqual(Object.keys(p.volumes), ['v1', 'v2']);
  assert.equal(p.volumes['v2']?.engineName, 'v2');
  assert.deepEqual(p.files, ['/proj/f0.yaml', '/proj/f1.yaml']);
});
