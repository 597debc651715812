// `pull_policy` and `platform` through the loader: accepted forms, errors with positions, no "ignored" warning.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { load, loadError, service, where } from './test-helpers.ts';

const svc = (body: string) => service(`services:\n  web:\n${body.replace(/^/gm, '    ')}\n`, 'web');

test('every pull_policy Compose accepts; if_not_present reads as missing; platform kept', () => {
  for (const p of ['missing', 'always', 'never', 'daily', 'weekly', 'every_12h', 'every_2d']) {
    assert.equal(svc(`image: a\npull_policy: ${p}`).pullPolicy, p);
  }
  assert.equal(svc('image: a\npull_policy: if_not_present').pullPolicy, 'missing');
  assert.equal(svc('build: .\npull_policy: build').pullPolicy, 'build');
  assert.equal(svc('image: a').pullPolicy, undefined, 'unset stays unset (cmesh pull tells it from missing)');
  assert.equal(svc('image: a\nplatform: linux/arm64/v8').platform, 'linux/arm64/v8');
  const loaded = load('services:\n  web:\n    image: a\n    pull_policy: always\n    platform: linux/amd64\n');
  assert.deepEqual(loaded.warnings, [], 'no longer warned as ignored');
});

test('bad values are errors at their position', () => {
  const err = loadError('services:\n  web:\n    image: a\n    pull_policy: sometimes\n    platform: amd64\n  b:\n    image: b\n    pull_policy: every_soon\n  c:\n    image: c\n    pull_policy: build\n');
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(err), [
    '4:18 services.web.pull_policy',
    '5:15 services.web.platform',
    '8:18 services.b.pull_policy',
    '11:18 services.c.pull_policy',
  ]);
  assert.match(err.issues[3]?.message ?? '', /needs a build section/);
});
