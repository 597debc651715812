// Spec hash: stable, golden, sensitive to what makes the container and blind to what does not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerLabels } from '../api/labels.ts';
import { createSpec } from './container-spec.ts';
import { specHash, stableStringify } from './hash.ts';
import { project, svc } from './testing.ts';

const base = svc('web', {
  command: ['busybox', 'httpd', '-f', '-p', '8080'],
  environment: { B: '2', A: '1' },
  ports: [{ target: 8080, published: 80, protocol: 'tcp' }],
  healthcheck: { test: ['CMD', 'true'], intervalMs: 1_000, disable: false },
  labels: { 'dev.cmesh.test': 'true' },
});
const p = project('demo', [base]);

test('golden: the hash of a fixed service does not drift', () => {
  // Changing this recreates every replica of every user on upgrade: only with a HASH_VERSION bump, on purpose.
  assert.equal(specHash(p, base), '8169c439674909300e745a5765ce09e3fbfdf9dcc058af511f11c25559139648');
});

test('golden: a service without lifecycle hooks keeps the hash it had before hooks were hashed', () => {
  const golden = '8169c439674909300e745a5765ce09e3fbfdf9dcc058af511f11c25559139648';
  for (const v of [{ ...base, postStart: [], preStop: [] }, { ...base, postStart: undefined, preStop: undefined }]) {
    assert.equal(specHash(project('demo', [v]), v), golden);
  }
});

test('a post_start or pre_stop change recreates (Compose does): every hook field is in the hash', () => {
  const hook = { command: ['sh', '-c', 'echo hi'], environment: {} };
  const withHook = { ...base, postStart: [hook] };
  const h = specHash(project('demo', [withHook]), withHook);
  assert.notEqual(h, specHash(p, base), 'adding a hook');
  const variants = [
    { ...base, preStop: [hook] },
    { ...base, postStart: [hook], preStop: [hook] },
    { ...base, postStart: [{ ...hook, command: ['sh', '-c', 'echo bye'] }] },
    { ...base, postStart: [{ ...hook, environment: { A: '1' } }] },
    { ...base, postStart: [{ ...hook, user: 'root' }] },
    { ...base, postStart: [{ ...hook, privileged: true }] },
    { ...base, postStart: [{ ...hook, workingDir: '/tmp' }] },
    { ...base, postStart: [hook, hook] },
  ];
  const hashes = variants.map((v) => specHash(project('demo', [v]), v));
  assert.equal(new Set([h, ...hashes]).size, variants.length + 1, 'each variant hashes differently');
});

test('stableStringify sorts keys at every depth and drops undefined', () => {
  assert.equal(stableStringify({ b: 1, a: { d: [2, { y: 1, x: undefined }], c: null } }), '{"a":{"c":null,"d":[2,{"y":1}]},"b":1}');
});

test('key order of env and labels does not matter', () => {
  const reordered = { ...base, environment: { A: '1', B: '2' } };
  assert.equal(specHash(p, reordered), specHash(p, base));
});

test('replica count and x-cmesh balancing do not change the hash', () => {
  const scaled = { ...base, replicas: 7, mesh: { ...base.mesh, lb: 'p2c' as const, retries: 5 } };
  assert.equal(specHash(project('demo', [scaled]), scaled), specHash(p, base));
});

test('container-relevant fields change the hash', () => {
  const h = specHash(p, base);
  const variants = [
    { ...base, image: 'example/web:2' },
    { ...base, command: ['busybox', 'httpd', '-f', '-p', '8081'] },
    { ...base, environment: { ...base.environment, C: '3' } },
    { ...base, expose: [9090] },
    { ...base, healthcheck: undefined },
    { ...base, user: '1000' },
    { ...base, stopSignal: 'SIGINT' },
    { ...base, labels: {} },
    { ...base, volumes: [{ type: 'bind' as const, source: '/tmp/x', target: '/x', readOnly: true }] },
  ];
  for (const v of variants) assert.notEqual(specHash(project('demo', [v]), v), h);
  assert.notEqual(specHash(p, base, 'sha256:aaaa'), h, 'a rebuilt image under the same tag must roll replicas');
});

test('createSpec names the replica and labels it with project, service, replica and hash', () => {
  const spec = createSpec(p, base, 3, 'abc');
  assert.equal(spec.name, 'demo-web-3');
  assert.deepEqual({ ...spec.labels }, { 'dev.cmesh.test': 'true', ...containerLabels('demo', 'web', 3, 'abc') });
  assert.deepEqual(spec.networks, [{ name: 'demo_default', aliases: ['web'] }]);
  assert.deepEqual(spec.ports, [{ containerPort: 8080, protocol: 'tcp' }]);
  assert.equal(spec.stopTimeoutSec, 10);
  assert.equal(spec.init, true);
});
