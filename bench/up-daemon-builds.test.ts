// up-daemon-builds.ts reads the lines daemon/gateway-bundle.ts and daemon/gateway-image.ts log when they build.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUNDLE_LOG } from '../daemon/gateway-bundle.ts';
import { IMAGE_LOG } from '../daemon/gateway-image.ts';
import { buildsIn, buildsText } from './up-daemon-builds.ts';

const at = (line: string): string => `2026-12-04T22:00:00.000Z cmesh-daemon: ${line}`;

test('a daemon log without build lines: nothing built', () => {
  const b = buildsIn([at('listening on /tmp/x/cmesh.sock'), at('east-west gateway image cmesh/gateway:0123456789abcdef ready (40 ms after the daemon\'s start)')].join('\n'));
  assert.deepEqual(b, { bundles: { state: 'none' }, image: { state: 'none' } });
  assert.equal(buildsText(b), 'nothing built');
});

test('bundles built, an image still building: both said, the unfinished one loudly', () => {
  const text = [
    at(`${BUNDLE_LOG} building gateway-init, gateway in a child process`),
    at(`${BUNDLE_LOG} built gateway-init, gateway in 812 ms (failed: gateway)`),
    at(`${IMAGE_LOG} building cmesh/gateway:0123456789abcdef (the engine lacks it)`),
  ].join('\n');
  const b = buildsIn(text);
  assert.deepEqual(b.bundles, { state: 'built', what: 'gateway-init, gateway', ms: 812, failed: 'gateway' });
  assert.deepEqual(b.image, { state: 'started', what: 'cmesh/gateway:0123456789abcdef' });
  assert.match(buildsText(b), /gateway bundles gateway-init, gateway in 812 ms \(failed: gateway\); gateway image cmesh\/gateway:0123456789abcdef STILL BUILDING/);
  const done = buildsIn(`${text}\n${at(`${IMAGE_LOG} built cmesh/gateway:0123456789abcdef in 9120 ms`)}`);
  assert.deepEqual(done.image, { state: 'built', what: 'cmesh/gateway:0123456789abcdef', ms: 9120 });
});

test("a child that only re-checked bundles built nothing; one that built some names them", () => {
  const checking = at(`${BUNDLE_LOG} checking gateway-init, gateway in a child process (built if stale)`);
  assert.deepEqual(buildsIn(`${checking}\n${at(`${BUNDLE_LOG} nothing built in 90 ms (unchanged: gateway-init, gateway)`)}`).bundles, { state: 'none' });
  const built = buildsIn(`${checking}\n${at(`${BUNDLE_LOG} built gateway in 700 ms (unchanged: gateway-init)`)}`);
  assert.deepEqual(built.bundles, { state: 'built', what: 'gateway', ms: 700 });
  assert.deepEqual(buildsIn(checking).bundles, { state: 'started', what: 'gateway-init, gateway' });
});
