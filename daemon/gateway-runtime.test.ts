// The host's node in a gateway directory: content-addressed, hard-linked (copied across filesystems), named in
// worker.json with the bundle, and removed once neither the current nor the previous worker.json names it.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hostRuntime, installRuntime } from './gateway-runtime.ts';
import { installWorker, workerName } from './gateway-worker.ts';

const root = mkdtempSync(join(tmpdir(), 'cgw-runtime-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in for a node binary (hashing ~100 MB per case would only slow the test). */
function fakeNode(name: string, content: string): string {
  const path = join(root, name);
  writeFileSync(path, content, { mode: 0o755 });
  return path;
}

const bundle = { name: 'worker-aaaaaaaaaaaaaaaa.mjs', data: Buffer.from('// worker\n') };
const pointer = (dir: string) => JSON.parse(readFileSync(join(dir, 'worker.json'), 'utf8')) as Record<string, string>;

test('hostRuntime: a content hash of the binary CMESH_GATEWAY_NODE names (else the daemon node), kept in the cache', async () => {
  const a = fakeNode('node-a', 'node a');
  const b = fakeNode('node-b', 'node b');
  const cache = join(root, 'runtime-tag.json');
  const ra = await hostRuntime({ CMESH_GATEWAY_NODE: a }, cache);
  assert.match(ra.name, /^node-[0-9a-f]{16}$/);
  assert.equal(ra.path, a);
  assert.notEqual((await hostRuntime({ CMESH_GATEWAY_NODE: b }, cache)).name, ra.name, 'another content, another name');
  assert.equal((await hostRuntime({ CMESH_GATEWAY_NODE: fakeNode('node-a2', 'node a') })).name, ra.name, 'same content, same name');
  assert.ok(readFileSync(cache, 'utf8').includes(ra.name), 'the hash is cached by the file stat');
  assert.match((await hostRuntime({})).name, /^node-[0-9a-f]{16}$/, 'the daemon own node');
});

test('installRuntime: hard link on one filesystem, executable, no temp file; installWorker names it and prunes', async () => {
  const dir = mkdtempSync(join(root, 'gw-'));
  const r1 = await hostRuntime({ CMESH_GATEWAY_NODE: fakeNode('node-1', 'node one') });
  const r2 = await hostRuntime({ CMESH_GATEWAY_NODE: fakeNode('node-2', 'node two') });
  const r3 = await hostRuntime({ CMESH_GATEWAY_NODE: fakeNode('node-3', 'node three') });
  await installRuntime(dir, r1, join(root, 'shared'));
  await installRuntime(dir, r1, join(root, 'shared'));
  const placed = statSync(join(dir, r1.name));
  assert.equal(placed.ino, statSync(r1.path).ino, 'a hard link, not a copy');
  assert.equal(placed.mode & 0o111, 0o111, 'executable');

  const n1 = await installWorker(dir, bundle, r1.name);
  assert.equal(n1, workerName(bundle, r1.name));
  assert.notEqual(n1, bundle.name, 'the name covers the runtime');
  assert.deepEqual(pointer(dir), { file: n1, runtime: r1.name });
  assert.equal(readFileSync(join(dir, n1), 'utf8'), '// worker\n');

  // A new host node: a new bundle name (the running worker asks for it), the previous runtime kept.
  await installRuntime(dir, r2, join(root, 'shared'));
  const n2 = await installWorker(dir, bundle, r2.name);
  assert.notEqual(n2, n1);
  assert.deepEqual(pointer(dir), { file: n2, runtime: r2.name, previous: r1.name });
  // The same again (every pass): nothing moves, the previous one is still kept.
  await installWorker(dir, bundle, r2.name);
  assert.deepEqual(pointer(dir), { file: n2, runtime: r2.name, previous: r1.name });
  assert.deepEqual(runtimes(dir), [r1.name, r2.name].sort());

  // Another one: the oldest is removed, the one before stays.
  await installRuntime(dir, r3, join(root, 'shared'));
  await installWorker(dir, bundle, r3.name);
  assert.deepEqual(runtimes(dir), [r2.name, r3.name].sort());
  // CMESH_GATEWAY_BASE_IMAGE: no runtime (the image's node); the last one stays as the previous.
  await installWorker(dir, bundle);
  assert.deepEqual(pointer(dir), { file: bundle.name, previous: r3.name });
  assert.deepEqual(runtimes(dir), [r3.name]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

const runtimes = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('node-')).sort();

test('installRuntime across filesystems: one copy per node version in the shared directory, hard-linked into every gateway', async (t) => {
  // /dev/shm is a tmpfs on Linux: a "host node" there cannot be hard-linked into a directory on the disk (EXDEV).
  let other: string;
  try {
    other = mkdtempSync('/dev/shm/cgw-node-');
  } catch {
    t.skip('no /dev/shm here');
    return;
  }
  t.after(() => rmSync(other, { recursive: true, force: true }));
  if (statSync(other).dev === statSync(root).dev) {
    t.skip('/dev/shm is on the same filesystem as the temp directory here');
    return;
  }
  const node1 = join(other, 'node');
  writeFileSync(node1, 'node on another filesystem', { mode: 0o755 });
  const r1 = await hostRuntime({ CMESH_GATEWAY_NODE: node1 });
  const shared = join(root, 'shared-x');
  const projects = [mkdtempSync(join(root, 'gw-a-')), mkdtempSync(join(root, 'gw-b-'))];
  for (const dir of projects) await installRuntime(dir, r1, shared);
  const copy = statSync(join(shared, r1.name));
  assert.notEqual(copy.ino, statSync(node1).ino, 'the shared one is a copy');
  for (const dir of projects) assert.equal(statSync(join(dir, r1.name)).ino, copy.ino, 'each gateway links the one copy');
  assert.equal(copy.nlink, 3, 'one copy, linked twice');
  assert.equal(copy.mode & 0o111, 0o111, 'executable');
  // A new node version: its copy replaces the old one in the shared directory; the gateways keep their own links.
  const node2 = join(other, 'node2');
  writeFileSync(node2, 'a newer node on another filesystem', { mode: 0o755 });
  const r2 = await hostRuntime({ CMESH_GATEWAY_NODE: node2 });
  await installRuntime(projects[0]!, r2, shared);
  assert.deepEqual(runtimes(shared), [r2.name]);
  assert.deepEqual(runtimes(projects[0]!), [r1.name, r2.name].sort());
  assert.equal(readFileSync(join(projects[1]!, r1.name), 'utf8'), 'node on another filesystem', 'the other gateway keeps its runtime');
  for (const dir of [shared, ...projects]) assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});
