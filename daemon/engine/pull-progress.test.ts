// Pull NDJSON parsing: layer progress, and error lines on an HTTP 200 turned into typed errors naming the image.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CmeshError } from '../api/errors.ts';
import { classifyPullFailure, PullProgressParser, parsePullOutput, pullFailure } from './pull-progress.ts';
import { pullQuery } from './pull-dockerode.ts';

// Recorded from Engine 20.10 pulling from docker-registry 2.8 (ids shortened the way the engine sends them).
const OK = [
  '{"status":"Pulling from cmesh-test/app","id":"v1"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"54adf6b059d8"}',
  '{"status":"Downloading","progressDetail":{"current":512,"total":2048},"progress":"[==>   ]","id":"54adf6b059d8"}',
  '{"status":"Download complete","progressDetail":{},"id":"54adf6b059d8"}',
  '{"status":"Pull complete","progressDetail":{},"id":"54adf6b059d8"}',
  '{"status":"Digest: sha256:f099bd35908e282990f83fadead23c7ba1cea1268a90e14afac9f794349f74f4"}',
  '{"status":"Status: Downloaded newer image for 127.0.0.1:5000/cmesh-test/app:v1"}',
].join('\r\n');

test('layers and statuses, whatever the chunk boundaries', () => {
  const whole = parsePullOutput('img', OK);
  const parser = new PullProgressParser('img');
  const split = [...OK].flatMap((ch) => parser.push(ch)).concat(parser.end());
  assert.deepEqual(split, whole);
  assert.deepEqual(whole[0], { kind: 'status', text: 'Pulling from cmesh-test/app v1' });
  assert.deepEqual(whole[2], { kind: 'layer', id: '54adf6b059d8', status: 'Downloading', current: 512, total: 2048 });
  assert.equal(whole.filter((p) => p.kind === 'layer').length, 4);
  const last = whole.at(-1);
  assert.match(last?.kind === 'status' ? last.text : '', /Downloaded newer image/);
});

test('an errorDetail line after a 200 throws the typed error, naming the image', () => {
  const text = `${OK.split('\r\n').slice(0, 3).join('\n')}\n{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}\n`;
  assert.throws(() => parsePullOutput('127.0.0.1:5000/x:1', text), (e: unknown) => {
    assert.ok(e instanceof CmeshError && e.code === 'CMESH_E_PULL_UNAUTHORIZED');
    assert.match(e.message, /127\.0\.0\.1:5000\/x:1/);
    assert.match(e.hint ?? '', /docker login 127\.0\.0\.1:5000/);
    return true;
  });
  assert.throws(() => parsePullOutput('x', '{"error":"read tcp: connection reset by peer"}'), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_PULL_FAILED');
});

test('engine messages classify as not found, unauthorized, unreachable, platform or other', () => {
  const table: [string, string][] = [
    ['manifest for 127.0.0.1:5000/exp/bb:nope not found: manifest unknown: manifest unknown', 'not-found'],
    ["pull access denied for nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", 'not-found'],
    ['Head "http://127.0.0.1:45125/v2/exp/bb/manifests/v1": no basic auth credentials', 'unauthorized'],
    ['unauthorized: authentication required', 'unauthorized'],
    ['Get "http://127.0.0.1:45124/v2/": dial tcp 127.0.0.1:45124: connect: connection refused', 'unreachable'],
    ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host', 'unreachable'],
    ['Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)', 'unreachable'],
    ['no matching manifest for linux/s390x in the manifest list entries', 'platform'],
    ['write /var/lib/docker/tmp/x: no space left on device', 'other'],
  ];
  for (const [message, kind] of table) assert.equal(classifyPullFailure(message), kind, message);
  const nf = pullFailure('a:1', table[0]![0], 404);
  assert.deepEqual([nf.code, nf.exitCode, nf.details.status], ['CMESH_E_IMAGE_NOT_FOUND', 7, 404]);
  assert.equal(pullFailure('a:1', table[2]![0]).exitCode, 9);
});

test('references split into fromImage and tag as the API wants them', () => {
  assert.deepEqual(pullQuery('postgres'), { fromImage: 'postgres', tag: 'latest' });
  assert.deepEqual(pullQuery('127.0.0.1:5000/team/app:v1'), { fromImage: '127.0.0.1:5000/team/app', tag: 'v1' });
  assert.deepEqual(pullQuery('127.0.0.1:5000/team/app'), { fromImage: '127.0.0.1:5000/team/app', tag: 'latest' });
  assert.deepEqual(pullQuery('r.io/a@sha256:abc'), { fromImage: 'r.io/a', tag: 'sha256:abc' });
});
