// The gateway image's content tag: the host's node and libraries are hashed from disk, never held in memory whole.

import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { extract } from 'tar-stream';
import type { BuildOptions, ContainerEngine } from './api/engine.ts';
import { contentTag, ensureGatewayImage, ensureImageOf, gatewayImageInputs, IMAGE_LOG, linkedLibraries } from './gateway-image.ts';
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

test('a missing image is built from a context holding the host node binary whole, streamed from disk', { skip: process.platform !== 'linux' && 'needs ldd' }, async () => {
  const sizes = new Map<string, number>();
  gc();
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let chunks = 0;
  const engine = {
    inspectImage: async () => undefined,
    async *buildImage(o: BuildOptions) {
      const x = extract();
      x.on('entry', (header, stream, next) => {
        let n = 0;
        stream.on('data', (c) => {
          n += (c as Buffer).length;
          // What the context holds live while the engine reads it (garbage collected first: only what is held counts).
          if (++chunks % 16 === 0) {
            gc();
            peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
          }
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
  const node = (await stat(process.execPath)).size;
  assert.equal(sizes.get('rootfs/usr/local/bin/node'), node);
  const names = [...sizes.keys()].join(', ');
  assert.ok(sizes.has('Dockerfile') && sizes.has('rootfs/gateway/init.mjs') && sizes.has('rootfs/gateway/supervisor.mjs'), names);
  assert.ok(chunks > 16, `the context came in ${chunks} chunks`);
  assert.ok(peak < node / 4, `${(peak / 2 ** 20).toFixed(1)} MiB of the context held at once (node is ${(node / 2 ** 20).toFixed(1)} MiB)`);
});

test("a build is followed by one full GC (the context's Buffers go now, not at V8's next one) and logged; a found image by neither", async (t) => {
  const calls: string[] = [];
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'gc');
  Object.defineProperty(globalThis, 'gc', { value: () => calls.push('gc'), configurable: true, writable: true });
  t.after(() => (saved ? Object.defineProperty(globalThis, 'gc', saved) : delete (globalThis as { gc?: unknown }).gc));
  const inputs = { tag: 'cmesh/gateway:0123456789abcdef', files: [{ name: 'Dockerfile', mode: 0o644, data: Buffer.from('FROM scratch\n') }], identity: 'init:rt:x', hostNode: true };
  let present = false;
  const engine = {
    inspectImage: async () => (present ? { id: 'sha256:built', tags: [inputs.tag], created: Date.now() } : undefined),
    async *buildImage(o: BuildOptions) {
      for await (const _ of o.context) calls.push('chunk');
      yield { kind: 'done' as const, imageId: 'sha256:built' };
    },
  } as unknown as ContainerEngine;
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  assert.equal(await ensureImageOf({ engine, env: {}, log }, inputs), inputs.tag);
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.filter((c) => c === 'gc').length, 1, `after the build: ${calls.join(' ')}`);
  assert.equal(calls.at(-1), 'gc', 'after the context was read');
  // The daemon's log says it built (bench/up.ts tells its RSS figures apart by these lines).
  assert.equal(lines[0], `${IMAGE_LOG} building ${inputs.tag} (the engine lacks it)`);
  assert.match(lines[1] ?? '', new RegExp(`^${IMAGE_LOG} built ${inputs.tag} in \\d+ ms$`));
  present = true;
  calls.length = 0;
  lines.length = 0;
  assert.equal(await ensureImageOf({ engine, env: {}, log }, inputs), inputs.tag);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, [], 'a found image: no GC');
  assert.ok(!lines.some((l) => l.startsWith(IMAGE_LOG)), `a found image is not said to be built: ${lines.join('; ')}`);
});

test('identity: a new host node or supervisor keeps it (another tag); a salt changes it; so does a base image', { skip: process.platform !== 'linux' && 'needs ldd' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-gwid-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The "new node": the daemon's node with bytes appended (it links the same libraries).
  const copy = join(dir, 'node');
  await copyFile(await realpath(process.execPath), copy);
  await appendFile(copy, '\n# another build\n');
  const engine = { inspectImage: async () => ({ id: 'sha256:base', tags: [] }) } as unknown as ContainerEngine;
  const env = { ...process.env, CMESH_GATEWAY_BASE_IMAGE: '', CMESH_GATEWAY_NODE: '', CMESH_GATEWAY_IMAGE_SALT: '' };
  const host = await gatewayImageInputs({ engine, env });
  const newNode = await gatewayImageInputs({ engine, env: { ...env, CMESH_GATEWAY_NODE: copy } });
  assert.notEqual(newNode.tag, host.tag, 'the image holds the node: another tag');
  assert.equal(newNode.identity, host.identity, 'the same init: the same identity');
  assert.match(host.identity, /^init:rt:[0-9a-f]{16}$/);
  // "New host libraries" (libc with bytes appended): another image, the same identity (workers run on a delivered runtime).
  const libc = (await linkedLibraries(process.execPath)).find((l) => /\/libc\.so/.test(l));
  assert.ok(libc, 'node links libc');
  await mkdir(join(dir, 'libs'));
  await copyFile(libc, join(dir, 'libs', basename(libc)));
  await appendFile(join(dir, 'libs', basename(libc)), '\n# a libc update\n');
  const newLibs = await gatewayImageInputs({ engine, env: { ...env, CMESH_GATEWAY_LIBS: join(dir, 'libs') } });
  assert.notEqual(newLibs.tag, host.tag, 'the image holds the libraries: another tag');
  assert.equal(newLibs.identity, host.identity, 'new libraries: the same identity');
  // A delivered supervisor salt leaves the image as it is (the image's own supervisor is never salted).
  assert.equal((await gatewayImageInputs({ engine, env: { ...env, CMESH_GATEWAY_SUPERVISOR_SALT: 'x' } })).tag, host.tag);
  assert.equal(host.hostNode, true);
  const salted = await gatewayImageInputs({ engine, env: { ...env, CMESH_GATEWAY_IMAGE_SALT: 'x' } });
  assert.notEqual(salted.identity, host.identity, 'another file beside node: another identity');
  // CMESH_GATEWAY_BASE_IMAGE: its node is not the host's, so another base image is a new container (stop-first).
  const based = await gatewayImageInputs({ engine, env: { ...env, CMESH_GATEWAY_BASE_IMAGE: 'my/node:20' } });
  assert.match(based.identity, /^init:[0-9a-f]{16}$/);
  assert.notEqual(based.identity, host.identity);
  assert.equal(based.hostNode, false);
});
