// The classic builder's compose keys reach the engine's build call (extra_hosts, network, shm_size, ulimits, pull,
// tags, cache_from, platform), and the options RUN steps can see are part of the cache key.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BuildSpec } from './api/project.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { svc } from './reconcile/testing.ts';
import { buildService } from '../builder/build.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-build-opts-'));
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
});
after(() => rm(dir, { recursive: true, force: true }));

const base = (): BuildSpec => ({ context: dir, dockerfile: 'Dockerfile', args: {}, labels: {} });

test('engine build parameters are passed through, and extra tags tag the image', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const build: BuildSpec = {
    ...base(),
    extraHosts: [{ host: 'registry.local', ip: '10.0.0.5' }],
    network: 'host',
    shmSizeBytes: 64 * 1024 * 1024,
    ulimits: { nofile: { soft: 1024, hard: 2048 } },
    pull: true,
    tags: ['example/web:dev'],
    cacheFrom: ['example/web:cache'],
    platform: 'linux/amd64',
  };
  const out = await buildService({ engine, project: 'p', service: svc('web', { image: undefined, build }) });
  const [call] = engine.callsOf('buildImage');
  const args = call?.args[0] as Record<string, unknown>;
  assert.deepEqual(
    { ...args, tags: undefined, dockerfile: undefined, args: undefined, target: undefined },
    {
      tags: undefined,
      dockerfile: undefined,
      args: undefined,
      target: undefined,
      extraHosts: ['registry.local:10.0.0.5'],
      networkMode: 'host',
      shmSizeBytes: 67108864,
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
      pull: true,
      cacheFrom: ['example/web:cache'],
      platform: 'linux/amd64',
    },
  );
  assert.ok(out.tags.includes('example/web:dev'));
  assert.ok((args['tags'] as string[]).includes('example/web:dev'));
});

test('what RUN steps see is part of the cache key; pull, tags and cache_from are not', async () => {
  const engine = new FakeEngine({ strictImages: true });
  const key = async (extra: Partial<BuildSpec>) => (await buildService({ engine, project: 'p', service: svc('web', { image: undefined, build: { ...base(), ...extra } }) })).hash;
  const plain = await key({});
  assert.equal(await key({ pull: true, tags: ['x:1'], cacheFrom: ['x:cache'] }), plain);
  assert.notEqual(await key({ extraHosts: [{ host: 'a', ip: '10.0.0.1' }] }), plain);
  assert.notEqual(await key({ network: 'none' }), plain);
  assert.notEqual(await key({ shmSizeBytes: 1024 }), plain);
});
