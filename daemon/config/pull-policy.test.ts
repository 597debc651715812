// `pull_policy` and `platform` through the loader: accepted forms, errors with positions, no "ignored" warning.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY_MS, pullIntervalMs } from '../pull-policy.ts';
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

test('pull_policy: refresh with pull_refresh_after is the every_<duration> policy (Compose Specification)', () => {
  assert.equal(svc('image: a\npull_policy: refresh\npull_refresh_after: 12h').pullPolicy, 'every_12h');
  assert.equal(svc('image: a\npull_refresh_after: 1w12h\npull_policy: refresh').pullPolicy, 'every_1w12h', 'key order does not matter');
  const loaded = load('services:\n  web:\n    image: a\n    pull_policy: refresh\n    pull_refresh_after: 2d\n');
  assert.deepEqual(loaded.warnings, [], 'honoured, not warned as ignored');
  assert.equal(pullIntervalMs(loaded.project.services['web']!.pullPolicy), 2 * DAY_MS, 'the daemon re-pulls once its last pull is two days old');
});

test('either half of refresh alone, or a bad duration, is an error at its position', () => {
  const err = loadError(
    'services:\n  a:\n    image: a\n    pull_policy: refresh\n  b:\n    image: b\n    pull_refresh_after: 1h\n  c:\n    image: c\n    pull_policy: refresh\n    pull_refresh_after: soon\n',
  );
  assert.equal(err.code, 'CMESH_E_CONFIG_INVALID');
  assert.deepEqual(where(err), ['4:18 services.a.pull_policy', '7:25 services.b.pull_refresh_after', '11:25 services.c.pull_refresh_after']);
  assert.match(err.issues[0]?.message ?? '', /needs pull_refresh_after/);
  assert.match(err.issues[0]?.hint ?? '', /pull_refresh_after: 24h/);
  assert.match(err.issues[1]?.message ?? '', /only applies with pull_policy "refresh"/);
  assert.match(err.issues[2]?.message ?? '', /invalid pull_refresh_after "soon"/);
});
