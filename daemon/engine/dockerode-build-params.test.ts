// The classic builder's compose keys as the dockerode adapter sends them to POST /build (a scripted engine, no Docker):
// repeated `extrahosts` like `t`, JSON `ulimits`/`cachefrom`, and nothing extra when they are unset.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createDockerEngine } from './dockerode-engine.ts';
import { collect } from './engine-test-kit.ts';
import { ScriptedEngine } from './scripted-engine.ts';

const scripted = new ScriptedEngine();
const engine = createDockerEngine({ host: `unix://${scripted.socketPath}` });
const good = readFileSync(new URL('./testdata/build-good.ndjson', import.meta.url));
let query: URLSearchParams | undefined;

before(async () => {
  await scripted.start();
  scripted.route('POST', '/build', async (req, res, url) => {
    query = url.searchParams;
    for await (const _ of req) {
      // consume the context
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(good);
  });
});
after(() => scripted.stop());

const build = (extra: Record<string, unknown>) =>
  collect(engine.buildImage({ context: Readable.from([Buffer.alloc(512)]), dockerfile: 'Dockerfile', tags: ['app:dev'], ...extra }));

test('extra hosts, network, shm size, ulimits, pull, cache_from and platform reach the build API', async () => {
  await build({
    extraHosts: ['registry.local:10.0.0.5', 'mirror.local:10.0.0.6'],
    networkMode: 'host',
    shmSizeBytes: 67_108_864,
    ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
    pull: true,
    cacheFrom: ['app:cache'],
    platform: 'linux/amd64',
  });
  assert.deepEqual(query?.getAll('extrahosts'), ['registry.local:10.0.0.5', 'mirror.local:10.0.0.6']);
  assert.equal(query?.get('networkmode'), 'host');
  assert.equal(query?.get('shmsize'), '67108864');
  assert.deepEqual(JSON.parse(query?.get('ulimits') ?? ''), [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.equal(query?.get('pull'), 'true');
  assert.deepEqual(JSON.parse(query?.get('cachefrom') ?? ''), ['app:cache']);
  assert.equal(query?.get('platform'), 'linux/amd64');
});

test('unset options send no parameter', async () => {
  await build({});
  for (const p of ['extrahosts', 'networkmode', 'shmsize', 'ulimits', 'pull', 'cachefrom', 'platform']) assert.equal(query?.has(p), false, p);
});
