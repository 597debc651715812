// x-cmesh: defaults, project-level defaults, validation, health derivation, and the published JSON Schema.

import assert from 'node:assert/strict';
import { eastWestPlan } from '../api/east-west.ts';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TARGETS } from '../api/target.ts';
import { projectToComposeYaml } from './render-yaml.ts';
import { LB_STRATEGIES, PROTOCOLS } from './schema.ts';
import { load, loadError, service, where } from './test-helpers.ts';
import { deriveHttpProbe, MESH_DEFAULTS } from './x-cmesh.ts';

test('built-in defaults', () => {
  const m = service('services:\n  web:\n    image: x\n').mesh;
  assert.deepEqual(m, {
    lb: 'p2c',
    protocol: 'http',
    weights: [],
    weight: 1,
    health: { intervalMs: 1000, timeoutMs: 1000, rise: 2, fall: 2 },
    retries: 2,
    timeouts: { connectMs: 5000, requestMs: 30_000, idleMs: 60_000 },
    accessLog: false,
    healthExplicit: false,
  });
});

test('every key at service level', () => {
  const m = service(
    'services:\n  web:\n    image: x\n    x-cmesh:\n      lb: ring-hash\n      protocol: tcp\n      weight: 2\n      weights: [3, 1.5]\n      health: {path: /healthz, port: 8080, interval: 500ms, timeout: 2s, rise: 3, fall: 1}\n      retries: 0\n      timeouts: {connect: 1s, request: 1m, idle: 5m}\n      bind: 0.0.0.0\n      hash_key: "header:X-User"\n      access_log: true\n      mesh: false\n      ports: [9090, 8080]\n',
  ).mesh;
  assert.deepEqual(m, {
    lb: 'ring-hash',
    protocol: 'tcp',
    weights: [3, 1.5],
    weight: 2,
    health: { path: '/healthz', port: 8080, intervalMs: 500, timeoutMs: 2000, rise: 3, fall: 1 },
    retries: 0,
    timeouts: { connectMs: 1000, requestMs: 60_000, idleMs: 300_000 },
    accessLog: true,
    healthExplicit: true,
    bind: '0.0.0.0',
    hashKey: 'header:X-User',
    protocolExplicit: true,
    eastWest: false,
    ports: [8080, 9090],
  });
});

test('project-level defaults apply to all services and merge under service keys', () => {
  const p = load('x-cmesh:\n  defaults:\n    lb: ewma\n    retries: 5\n    timeouts: {connect: 2s}\n    health: {interval: 3s}\nservices:\n  a: {image: a}\n  b:\n    image: b\n    x-cmesh: {lb: random, timeouts: {idle: 10s}, health: {path: /up}}\n').project;
  assert.equal(p.services['a']?.mesh.lb, 'ewma');
  assert.equal(p.services['a']?.mesh.retries, 5);
  assert.equal(p.services['a']?.mesh.health.intervalMs, 3000);
  assert.equal(p.services['a']?.mesh.healthExplicit, true);
  assert.equal(p.services['b']?.mesh.lb, 'random');
  assert.deepEqual(p.services['b']?.mesh.timeouts, { connectMs: 2000, requestMs: 30_000, idleMs: 10_000 });
  assert.deepEqual(p.services['b']?.mesh.health, { intervalMs: 3000, timeoutMs: 1000, rise: 2, fall: 2, path: '/up' });
  assert.equal(p.extensions['x-cmesh'], undefined);
});

test('health is derived from an HTTP healthcheck, else TCP', () => {
  const cases: [string, { path: string; port: number } | undefined][] = [
    ['["CMD", "wget", "-q", "-O-", "http://localhost:3000/healthz"]', { path: '/healthz', port: 3000 }],
    ['curl -f http://127.0.0.1:8080/api/health?full=1 || exit 1', { path: '/api/health?full=1', port: 8080 }],
    ['["CMD-SHELL", "curl --fail --silent http://localhost/ready"]', { path: '/ready', port: 80 }],
    ['["CMD", "pg_isready", "-U", "postgres"]', undefined],
    ['redis-cli ping', undefined],
    ['curl -f https://localhost/secure', undefined],
  ];
  for (const [test_, want] of cases) {
    const s = service(`services:\n  web:\n    image: x\n    healthcheck:\n      test: ${test_}\n`);
    assert.deepEqual(deriveHttpProbe(s.healthcheck), want, test_);
    assert.equal(s.mesh.healthExplicit, want !== undefined);
    assert.equal(s.mesh.health.path, want?.path);
    assert.equal(s.mesh.health.port, want?.port);
  }
  const explicit = service('services:\n  web:\n    image: x\n    healthcheck: {test: curl -f http://localhost:1/a}\n    x-cmesh: {health: {path: /b}}\n');
  assert.deepEqual([explicit.mesh.health.path, explicit.mesh.health.port], ['/b', undefined]);
});

test('protocol h2c and its alias grpc: an HTTP listener over h2c replicas, written back as declared', () => {
  for (const declared of ['h2c', 'grpc']) {
    const text = `services:\n  rpc:\n    image: x\n    x-cmesh: {protocol: ${declared}}\n`;
    const svc = service(text, 'rpc');
    assert.deepEqual([svc.mesh.protocol, svc.mesh.upstream, svc.mesh.protocolExplicit], ['http', 'h2c', true]);
    assert.equal(svc.mesh.protocolAlias, declared === 'grpc' ? 'grpc' : undefined);
    assert.match(projectToComposeYaml(load(text).project), new RegExp(`\\n {6}protocol: ${declared}\\n`));
  }
  assert.equal(service('services:\n  web:\n    image: x\n').mesh.upstream, undefined);
  const err = loadError('services:\n  rpc:\n    image: x\n    x-cmesh:\n      protocol: http2\n');
  assert.deepEqual(where(err), ['5:17 services.rpc.x-cmesh.protocol']);
  assert.match(err.message, /http2/);
});

test('validation errors are collected with positions; unknown keys warn', () => {
  const err = loadError('services:\n  web:\n    image: x\n    x-cmesh:\n      lb: fastest\n      protocol: grpc2\n      weight: -1\n      weights: [1, "a"]\n      retries: lots\n      health: {path: healthz, rise: 0, interval: fast}\n      timeouts: {connect: 1}\n      bind: localhost\n      access_log: "yes"\n');
  assert.deepEqual(where(err), [
    '5:11 services.web.x-cmesh.lb',
    '6:17 services.web.x-cmesh.protocol',
    '7:15 services.web.x-cmesh.weight',
    '8:20 services.web.x-cmesh.weights[1]',
    '9:16 services.web.x-cmesh.retries',
    '10:22 services.web.x-cmesh.health.path',
    '10:37 services.web.x-cmesh.health.rise',
    '10:50 services.web.x-cmesh.health.interval',
    '11:27 services.web.x-cmesh.timeouts.connect',
    '12:13 services.web.x-cmesh.bind',
    '13:19 services.web.x-cmesh.access_log',
  ]);
  const r = load('x-cmesh:\n  defaults: {}\n  other: 1\nservices:\n  web:\n    image: x\n    x-cmesh:\n      lbb: p2c\n      hash_key: ip\n');
  assert.deepEqual(r.warnings.map((w) => `${w.position?.line}:${w.position?.col} ${w.path}`), ['3:3 x-cmesh.other', '8:7 services.web.x-cmesh.lbb', '5:3 services.web.x-cmesh.hash_key']);
  assert.match(r.warnings[1]?.message ?? '', /did you mean "lb"/);
});

test('the published JSON Schema agrees with the loader', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/x-cmesh.schema.json', import.meta.url), 'utf8'));
  const props = schema.$defs.service.properties;
  assert.deepEqual(props.lb.enum, [...LB_STRATEGIES]);
  assert.deepEqual(props.protocol.enum, [...PROTOCOLS]);
  assert.equal(props.lb.default, MESH_DEFAULTS.lb);
  assert.equal(props.retries.default, MESH_DEFAULTS.retries);
  assert.equal(props.health.properties.rise.default, MESH_DEFAULTS.health.rise);
  assert.deepEqual(Object.keys(props).sort(), ['access_log', 'bind', 'circuit_breaker', 'faults', 'hash_key', 'health', 'lb', 'mesh', 'ports', 'protocol', 'rate_limit', 'retries', 'retry', 'rollout', 'routes', 'timeouts', 'tls', 'weight', 'weights']);
  assert.deepEqual(Object.keys(props.rollout.properties), ['max_surge']);
  assert.deepEqual(Object.keys(schema.$defs.project.properties).sort(), ['defaults', 'east_west', 'registry', 'target']);
  assert.equal(schema.$defs.project.properties.east_west.default, true);
  assert.deepEqual(schema.$defs.project.properties.target.enum, [...TARGETS]);
});

test('east-west: on unless x-cmesh.east_west is false; mesh: false opts a service out; ports merge defaults and own', () => {
  const byDefault = load('services:\n  web: {image: x}\n  api: {image: x, expose: [3000]}\n');
  assert.equal(byDefault.project.eastWest, true);
  // On by default, a port-less service (a worker nobody calls by name) is left out without a warning.
  assert.deepEqual(byDefault.warnings, []);
  assert.deepEqual(eastWestPlan(byDefault.project).services.map((s) => s.name), ['api']);
  const off = load('x-cmesh: {east_west: false}\nservices:\n  web: {image: x, expose: [3000]}\n').project;
  assert.equal(off.eastWest, false);
  assert.deepEqual(eastWestPlan(off).services, []);
  assert.match(projectToComposeYaml(off), /x-cmesh:\n {2}east_west: false\n/);
  assert.doesNotMatch(projectToComposeYaml(byDefault.project), /east_west/);
  const p = load(
    'x-cmesh:\n  east_west: true\n  defaults: {ports: [9000]}\nservices:\n  db:\n    image: x\n    x-cmesh: {ports: [5432, 9000]}\n  side:\n    image: x\n    x-cmesh: {mesh: false}\n',
  ).project;
  assert.equal(p.eastWest, true);
  assert.deepEqual(p.services['db']?.mesh.ports, [5432, 9000]);
  assert.equal(p.services['db']?.mesh.eastWest, undefined);
  assert.equal(p.services['side']?.mesh.eastWest, false);
  const w = load('x-cmesh: {east_west: true}\nservices:\n  a: {image: x, expose: [5432]}\n  b: {image: x, expose: [5432]}\n  c: {image: x}\n  d: {image: x, x-cmesh: {mesh: false}}\n');
  // a and b collide on TCP 5432: two gateways, no warning. c has no port in the file: its image's EXPOSE is read at up.
  assert.deepEqual(w.warnings.map((x) => `${x.path}: ${x.message}`), [
    "services.c: east-west: c is not meshed: no container port in the compose file (the image's EXPOSE is read at up, once the image is local; or add ports, expose or x-cmesh.ports)",
  ]);
  const err = loadError('x-cmesh: {east_west: yes please}\nservices:\n  web:\n    image: x\n    x-cmesh: {ports: [0]}\n');
  assert.deepEqual(where(err).sort(), ['1:22 x-cmesh.east_west', '5:23 services.web.x-cmesh.ports[0]'].sort());
});

test('rollout.max_surge: service over project defaults, absent when not set; 0 and unknown keys are reported', () => {
  const p = load('x-cmesh:\n  defaults: {rollout: {max_surge: 2}}\nservices:\n  a: {image: a}\n  b:\n    image: b\n    x-cmesh: {rollout: {max_surge: 3}}\n').project;
  assert.deepEqual(p.services['a']?.mesh.rollout, { maxSurge: 2 });
  assert.deepEqual(p.services['b']?.mesh.rollout, { maxSurge: 3 });
  assert.equal(service('services:\n  web:\n    image: x\n').mesh.rollout, undefined);
  const err = loadError('services:\n  web:\n    image: x\n    x-cmesh:\n      rollout: {max_surge: 0}\n');
  assert.deepEqual(where(err), ['5:28 services.web.x-cmesh.rollout.max_surge']);
  const r = load('services:\n  web:\n    image: x\n    x-cmesh:\n      rollout: {max_sruge: 2}\n');
  assert.deepEqual(r.warnings.map((w) => w.path), ['services.web.x-cmesh.rollout.max_sruge']);
});

test('x-cmesh.target: local or swarm at the top level, absent by default; a bad value names file:line:col; config renders it', () => {
  assert.equal(load('services:\n  web: {image: x}\n').project.target, undefined);
  const p = load('x-cmesh:\n  target: swarm\nservices:\n  web: {image: x}\n').project;
  assert.equal(p.target, 'swarm');
  assert.match(projectToComposeYaml(p), /x-cmesh:\n {2}target: swarm\n/);
  const err = loadError('x-cmesh:\n  target: kubernetes\nservices:\n  web: {image: x}\n');
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(err.issues.map((i) => [i.path, `${i.position?.line}:${i.position?.col}`, i.message, i.hint]), [
    ['x-cmesh.target', '2:11', 'invalid value "kubernetes"', 'expected one of: local, swarm'],
  ]);
});

test('x-cmesh.registry: a registry host with optional port and path; a scheme or a tag is an error at file:line:col', () => {
  const p = load('x-cmesh:\n  target: swarm\n  registry: 127.0.0.1:5000/team\nservices:\n  web: {image: x}\n').project;
  assert.equal(p.registry, '127.0.0.1:5000/team');
  assert.match(projectToComposeYaml(p), /registry: 127\.0\.0\.1:5000\/team/);
  for (const bad of ['http://reg:5000', 'reg:5000/app:1']) {
    const err = loadError(`x-cmesh:\n  registry: "${bad}"\nservices:\n  web: {image: x}\n`);
    assert.deepEqual(err.issues.map((i) => [i.path, `${i.position?.line}:${i.position?.col}`, i.message]), [['x-cmesh.registry', '2:13', `invalid registry "${bad}"`]]);
  }
});
