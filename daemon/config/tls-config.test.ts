// `x-cmesh.tls`: the short and long forms, project defaults and `tls: false`, and the errors with their positions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProjectSpecSchema } from '../api/project-schema.ts';
import { load, loadError, service, where } from './test-helpers.ts';

test('tls: true serves with the defaults; the long form takes hosts and client_auth', () => {
  assert.equal(service('services:\n  web: {image: x}\n').mesh.tls, undefined);
  assert.deepEqual(service('services:\n  web:\n    image: x\n    x-cmesh: {tls: true}\n').mesh.tls, { hosts: [], clientAuth: 'none' });
  assert.equal(service('services:\n  web:\n    image: x\n    x-cmesh: {tls: false}\n').mesh.tls, undefined);
  const long = service('services:\n  web:\n    image: x\n    x-cmesh:\n      tls:\n        hosts: [API.test, "*.api.test", 10.0.0.5, "::1", api.test]\n        client_auth: require\n');
  assert.deepEqual(long.mesh.tls, { hosts: ['api.test', '*.api.test', '10.0.0.5', '::1'], clientAuth: 'require' });
});

test('project defaults turn TLS on for every service; a service turns it off with tls: false', () => {
  const p = load('x-cmesh:\n  defaults: {tls: {client_auth: request}}\nservices:\n  a: {image: x}\n  b:\n    image: x\n    x-cmesh: {tls: false}\n').project;
  assert.deepEqual(p.services['a']?.mesh.tls, { hosts: [], clientAuth: 'request' });
  assert.equal(p.services['b']?.mesh.tls, undefined);
  // The control API accepts what the loader produced.
  assert.equal(ProjectSpecSchema.safeParse(p).success, true);
});

test('bad values are errors at their position, with a hint', () => {
  const e = loadError('services:\n  web:\n    image: x\n    x-cmesh:\n      tls:\n        hosts: [bad_name!]\n        client_auth: maybe\n');
  assert.equal(e.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(e).sort(), ['6:17 services.web.x-cmesh.tls.hosts[0]', '7:22 services.web.x-cmesh.tls.client_auth']);
  assert.match(e.issues.find((i) => i.path?.endsWith('hosts[0]'))?.hint ?? '', /DNS name/);
  const scalar = loadError('services:\n  web:\n    image: x\n    x-cmesh: {tls: yes-please}\n');
  assert.match(scalar.issues[0]?.message ?? '', /expected true, false or a mapping/);
});

test('an unknown key under tls is a named warning, not a silent drop', () => {
  const { warnings } = load('services:\n  web:\n    image: x\n    x-cmesh:\n      tls: {hosts: [a.test], client_auht: require}\n');
  assert.match(warnings.map((w) => w.message).join('\n'), /unknown key "client_auht" is ignored \(did you mean "client_auth"\?\)/);
});

test('tls on a service without a published port is a named warning (not for project defaults)', () => {
  const own = load('services:\n  web:\n    image: x\n    x-cmesh: {tls: true}\n').warnings.map((w) => w.message);
  assert.ok(own.some((m) => /x-cmesh.tls has no effect: service "web" publishes no TCP port/.test(m)), own.join('\n'));
  const published = load('services:\n  web:\n    image: x\n    ports: ["8443:3000"]\n    x-cmesh: {tls: true}\n').warnings;
  assert.equal(published.length, 0);
  const defaults = load('x-cmesh:\n  defaults: {tls: true}\nservices:\n  worker: {image: x}\n').warnings;
  assert.equal(defaults.length, 0);
});

test('tls on a tcp listener is refused rather than served in clear', () => {
  const e = loadError('services:\n  db:\n    image: x\n    ports: ["5432:5432"]\n    x-cmesh: {protocol: tcp, tls: true}\n');
  assert.match(e.issues[0]?.message ?? '', /x-cmesh.tls on a tcp listener/);
  assert.equal(e.issues[0]?.path, 'services.db.x-cmesh.tls');
});
