// The gateway image's entry is a frozen init (mesh/gateway/init.ts): its bundle is part of every gateway's identity,
// so a change to it recreates every running gateway stop-first (callers see about a second of errors, and keep-alive
// callers that cached the gateway's address are stranded). The supervisor is not part of the identity: a new one is
// delivered to the running gateway and taken over in place.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { cacheDirs, ensureBundle } from '../bin/bundle-cache.mjs';
import { identityOf, INIT_ENTRY } from './gateway-image.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

// CHANGING INIT RECREATES EVERY GATEWAY STOP-FIRST. Change mesh/gateway/init.ts (or what its bundle is made with:
// esbuild, bin/bundle-build-options.mjs's banner) only deliberately, say so in the commit and the README (East-west),
// then update these two hashes. Everything else a gateway runs belongs in the supervisor or the worker. The identity
// covers the bundle (esbuild drops comments: a comment-only edit keeps the gateways); the source's pin stops any edit.
const INIT_SOURCE_SHA256 = '4f329d2e04a51ff6e1a304fc895fce18259ecc0c6e81a3f78c5aaeb0514aee75';
const INIT_BUNDLE_SHA256 = '2942797c966a2cad9f29813ace6a62b35405e16b4f28f42c4b725e0f833bf42e';

test('init is frozen: its source and the bundle the image holds are the pinned ones', async () => {
  assert.equal(sha256(await readFile(new URL(`../${INIT_ENTRY}`, import.meta.url))), INIT_SOURCE_SHA256, `${INIT_ENTRY} changed: read the comment above`);
  const built = await ensureBundle(ROOT, 'gateway-init', INIT_ENTRY, cacheDirs(ROOT, process.env), { warn: () => undefined });
  assert.equal(built.error, undefined);
  assert.equal(sha256(await readFile(built.path)), INIT_BUNDLE_SHA256, 'the init bundle changed (esbuild or the bundle options?): read the comment above');
});

test('identity: covers init and the base image; not the node binary, its libraries nor the supervisor', async () => {
  const file = (name: string, text: string) => ({ name, mode: 0o644, data: Buffer.from(text) });
  const image = (o: { init?: string; supervisor?: string; node?: string; lib?: string; loader?: string } = {}) => [
    file('Dockerfile', 'FROM scratch\n'),
    file('rootfs/gateway/init.mjs', o.init ?? 'init'),
    file('rootfs/gateway/supervisor.mjs', o.supervisor ?? 'supervisor 1'),
    file('rootfs/lib/x86_64-linux-gnu/libc.so.6', o.lib ?? 'libc'),
    file('rootfs/lib64/ld-linux-x86-64.so.2', o.loader ?? 'ld'),
    file('rootfs/usr/local/bin/node', o.node ?? 'node 20'),
  ];
  const base = await identityOf(image(), undefined);
  assert.match(base, /^init:rt:[0-9a-f]{16}$/, 'a host-node image: its workers run on a delivered runtime');
  assert.equal(await identityOf(image({ supervisor: 'supervisor 2' }), undefined), base, 'a new supervisor keeps the gateway');
  assert.equal(await identityOf(image({ node: 'node 22' }), undefined), base, 'a new host node keeps the gateway');
  assert.equal(await identityOf(image({ lib: 'libc 2', loader: 'ld 2' }), undefined), base, 'new host libraries keep the gateway');
  assert.notEqual(await identityOf(image({ init: 'init 2' }), undefined), base, 'a new init recreates it');
  const based = await identityOf(image(), 'sha256:base');
  assert.match(based, /^init:[0-9a-f]{16}$/, 'a base image: its node runs the workers, the identity keeps its old form');
  assert.notEqual(based, base, 'another base image recreates it');
});
