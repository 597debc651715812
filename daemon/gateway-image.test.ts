// The gateway image's content tag: the host's node and libraries are hashed from disk, never held in memory whole.

import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { extract } from 'tar-stream';
import type { BuildOptions, ContainerEngine } from './api/engine.ts';
import { contentTag, ensureGatewayImage } from './gateway-image.ts';
import { fromDisk } from './gateway-image-tag-cache.ts';

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

test('a file hashed from disk gives the tag its bytes in memory give (an upgrade does not rebuild the image)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-gwimg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = Buffer.from('x'.repeat(200_000));
  await writeFile(join(dir, 'node'), data);
  const small = { name: 'Dockerfile', mode: 0o644, data: Buffer.from('FROM scratch\n') };
  const inMemory = await contentTag([small, { name: 'rootfs/node', mode: 0o755, data }], undefined);
  const onDisk = await contentTag([small, await fromDisk('rootfs/node', join(dir, 'node'))], undefined);
  assert.equal(onDisk, inMemory);
  assert.notEqual(await contentTag([small, { name: 'rootfs/node', mode: 0o755, data }], 'sha256:base'), inMemory);
});

test('finding the image present leaves no copy of the host node binary behind for the next GC to free', { skip: process.platform !== 'linux' && 'needs ldd' }, async () => {
  const engine = { inspectImage: async () => ({ id: 'sha256:present', tags: [] }) } as unknown as ContainerEngine;
  const env = { ...process.env, CMESH_GATEWAY_BASE_IMAGE: '' };
  const tag = await ensureGatewayImage({ engine, env });
  gc();
  const before = process.memoryUsage().arrayBuffers;
  assert.equal(await ensureGatewayImage({ engine, env }), tag);
  const grown = process.memoryUsage().arrayBuffers - before;
  const node = (await stat(process.execPath)).size;
  assert.ok(grown < node / 4, `${(grown / 2 ** 20).toFixed(1)} MiB of buffers left by one call (node is ${(node / 2 ** 20).toFixed(1)} MiB)`);
});

test('a missing image is built from a context holding the host node binary whole', { skip: process.platform !== 'linux' && 'needs ldd' }, async () => {
  const sizes = new Map<string, number>();
  const engine = {
    inspectImage: async () => undefined,
    async *buildImage(o: BuildOptions) {
      const x = extract();
      x.on('entry', (header, stream, next) => {
        let n = 0;
        stream.on('data', (c) => {
          n += (c as Buffer).length;
        });
        stream.on('end', () => {
          sizes.set(header.name, n);
          next();
        });
      });
      await new Promise<void>((resolve, reject) => {
        x.on('finish', () => resolve());
        x.on('error', reject);
        o.context.pipe(x as unknown as NodeJS.WritableStream);
      });
      yield { kind: 'done' as const, imageId: 'sha256:built' };
    },
  } as unknown as ContainerEngine;
  const tag = await ensureGatewayImage({ engine, env: { ...process.env, CMESH_GATEWAY_BASE_IMAGE: '' } });
  assert.match(tag, /^cmesh\/gateway:[0-9a-f]{16}$/);
  assert.equal(sizes.get('rootfs/usr/local/bin/node'), (await stat(process.execPath)).size);
  assert.ok(sizes.has('Dockerfile') && sizes.has('rootfs/gateway/supervisor.mjs'), [...sizes.keys()].join(', '));
});
