// pull_policy decisions as one table per verb (up: image-only services, up: build services, cmesh pull).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PullPolicy } from './api/project.ts';
import { buildServiceAction, DAY_MS, imageServiceAction, parseEvery, pullCommandAction, WEEK_MS } from './pull-policy.ts';
import { PullStateFile } from './pull-state.ts';

const NOW = 10 * WEEK_MS;
type Row = [PullPolicy | undefined, boolean, number | undefined, ReturnType<typeof imageServiceAction>];

test('up, image-only services', () => {
  const rows: Row[] = [
    [undefined, false, undefined, 'pull'],
    [undefined, true, undefined, 'use-local'],
    ['missing', false, undefined, 'pull'],
    ['missing', true, undefined, 'use-local'],
    ['always', true, NOW, 'pull'],
    ['never', false, undefined, 'refuse'],
    ['never', true, undefined, 'use-local'],
    ['build', false, undefined, 'refuse'],
    ['daily', false, NOW, 'pull'],
    ['daily', true, undefined, 'pull'],
    ['daily', true, NOW - DAY_MS + 1, 'use-local'],
    ['daily', true, NOW - DAY_MS, 'pull'],
    ['weekly', true, NOW - 6 * DAY_MS, 'use-local'],
    ['weekly', true, NOW - WEEK_MS, 'pull'],
    ['every_12h', true, NOW - 11 * 3_600_000, 'use-local'],
    ['every_12h', true, NOW - 12 * 3_600_000, 'pull'],
  ];
  for (const [policy, present, last, want] of rows) {
    const facts = { present, now: NOW, ...(last === undefined ? {} : { lastPulledAt: last }) };
    assert.equal(imageServiceAction(policy, facts), want, `${policy} present=${present} last=${last}`);
  }
});

test('up, build services: build unless a refresh of image: is asked for', () => {
  const f = { present: true, now: NOW };
  assert.equal(buildServiceAction(undefined, true, f), 'build');
  assert.equal(buildServiceAction('missing', true, f), 'build');
  assert.equal(buildServiceAction('never', true, f), 'build');
  assert.equal(buildServiceAction('always', false, f), 'build', 'nothing to pull without image:');
  assert.equal(buildServiceAction('always', true, f), 'pull-or-build');
  assert.equal(buildServiceAction('build', false, f), 'force-build');
  assert.equal(buildServiceAction('daily', true, f), 'pull-or-build');
  assert.equal(buildServiceAction('daily', true, { ...f, lastPulledAt: NOW - 1000 }), 'build');
});

test('cmesh pull, as docker compose pull', () => {
  assert.equal(pullCommandAction(undefined, 'a:1', true), 'pull', 'unset pulls even when present');
  assert.equal(pullCommandAction('missing', 'a:1', true), 'skip');
  assert.equal(pullCommandAction('missing', 'a', true), 'pull', ':latest is refreshed');
  assert.equal(pullCommandAction('missing', 'a:1', false), 'pull');
  assert.equal(pullCommandAction('never', 'a:1', false), 'skip');
  assert.equal(pullCommandAction('build', 'a:1', false), 'skip');
  assert.equal(pullCommandAction('daily', 'a:1', true), 'pull');
});

test('every_<duration> takes Go durations plus d and w', () => {
  assert.equal(parseEvery('every_12h'), 12 * 3_600_000);
  assert.equal(parseEvery('every_1h30m'), 5_400_000);
  assert.equal(parseEvery('every_2d'), 2 * DAY_MS);
  assert.equal(parseEvery('every_1w12h'), WEEK_MS + 12 * 3_600_000);
  for (const bad of ['every_', 'every_x', 'every_0s', 'every_-1h', 'daily']) assert.equal(parseEvery(bad), undefined, bad);
});

test('pull times survive a new PullStateFile (a daemon restart); a damaged file means "never pulled"', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-pulls-'));
  try {
    const file = join(dir, 'home', 'pulls.json');
    const a = new PullStateFile(file);
    await Promise.all([a.set('x:1', 111), a.set('y:2', 222)]);
    const b = new PullStateFile(file);
    assert.equal(await b.get('x:1'), 111);
    assert.equal(await b.get('y:2'), 222);
    await writeFile(file, '{garbage');
    assert.equal(await new PullStateFile(file).get('x:1'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
