// The host's runtime in a gateway directory: a content-addressed directory with node, its loader and its libraries,
// hard-linked (copied across filesystems), named in worker.json with the bundle, and removed once neither the current
// nor the previous worker.json names it.

import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type GatewayRuntime, hostRuntime, installRuntime, linkedObjects } from './gateway-runtime.ts';
import { installWorker, workerName } from './gateway-worker.ts';

const root = mkdtempSync(join(tmpdir(), 'cgw-runtime-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in runtime: small files for node, loader and libc (hashing ~100 MB per case would only slow the test). */
function fakeRuntime(tag: string, base = root): GatewayRuntime {
  const file = (name: string) => {
    const path = join(base, `${tag}-${name}`);
    writeFileSync(path, `${name} ${tag}`, { mode: 0o755 });
    return path;
  };
  const hex = Buffer.from(tag.padEnd(8, '0').slice(0, 8)).toString('hex');
  return { name: `runtime-${hex}`, files: [{ name: 'node', path: file('node') }, { name: 'ld.so', path: file('ld') }, { name: 'lib/libc.so.6', path: file('libc') }] };
}

const bundle = { name: 'worker-aaaaaaaaaaaaaaaa.mjs', data: Buffer.from('// worker\n') };
const pointer = (dir: string) => JSON.parse(readFileSync(join(dir, 'worker.json'), 'utf8')) as Record<string, string>;

test('hostRuntime: the daemon node with its loader and libraries; another library (CMESH_GATEWAY_LIBS) is another name', { skip: process.platform !== 'linux' && 'needs ldd' }, async () => {
  const { loader, libs } = await linkedObjects(process.execPath);
  assert.ok(loader?.startsWith('/') && !libs.includes(loader), `the loader apart from the libraries: ${loader}`);
  const cache = join(root, 'runtime-tag.json');
  const host = await hostRuntime({}, cache);
  assert.match(host.name, /^runtime-[0-9a-f]{16}$/);
  const names = host.files.map((f) => f.name);
  assert.deepEqual(names.slice(0, 2), ['node', 'ld.so']);
  const libc = host.files.find((f) => /^lib\/libc\.so/.test(f.name));
  assert.ok(libc, `libc among ${names.join(', ')}`);
  assert.equal((await hostRuntime({}, cache)).name, host.name, 'the same files, the same name (from the cache)');
  // "New host libraries": libc with bytes appended, standing in for the host's by its file name.
  const update = join(root, 'libs');
  mkdirSync(update);
  const newLibc = join(update, libc.name.slice('lib/'.length));
  copyFileSync(libc.path, newLibc);
  appendFileSync(newLibc, '\n# a libc update\n');
  const updated = await hostRuntime({ CMESH_GATEWAY_LIBS: update }, cache);
  assert.notEqual(updated.name, host.name, 'another library, another runtime');
  assert.equal(updated.files.find((f) => f.name === libc.name)?.path, newLibc);
  assert.equal(updated.files.find((f) => f.name === 'node')?.path, host.files[0]!.path, 'the same node');
});

test('installRuntime: a directory of hard links on one filesystem, no temp file; installWorker names it and prunes', async () => {
  const dir = mkdtempSync(join(root, 'gw-'));
  // What an older cmesh delivered: a bare node binary, pruned like a runtime directory once nothing names it.
  writeFileSync(join(dir, 'node-00000000000000aa'), 'old node', { mode: 0o755 });
  writeFileSync(join(dir, 'worker.json'), JSON.stringify({ file: 'w.mjs', runtime: 'node-00000000000000aa' }));
  const [r1, r2, r3] = [fakeRuntime('one'), fakeRuntime('two'), fakeRuntime('three')];
  await installRuntime(dir, r1, join(root, 'shared'));
  await installRuntime(dir, r1, join(root, 'shared'));
  assert.deepEqual(readdirSync(join(dir, r1.name)).sort(), ['ld.so', 'lib', 'node']);
  for (const f of r1.files) {
    const placed = statSync(join(dir, r1.name, f.name));
    assert.equal(placed.ino, statSync(f.path).ino, `${f.name}: a hard link, not a copy`);
    assert.equal(placed.mode & 0o111, 0o111, `${f.name}: executable`);
  }

  const n1 = await installWorker(dir, bundle, r1.name);
  assert.equal(n1, workerName(bundle, r1.name));
  assert.notEqual(n1, bundle.name, 'the name covers the runtime');
  assert.deepEqual(pointer(dir), { file: n1, runtime: r1.name, previous: 'node-00000000000000aa' });
  assert.equal(readFileSync(join(dir, n1), 'utf8'), '// worker\n');

  // A new host runtime: a new bundle name (the running worker asks for it), the previous runtime kept.
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

const runtimes = (dir: string) => readdirSync(dir).filter((f) => /^(node|runtime)-[0-9a-f]{16}$/.test(f)).sort();

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
  const r1 = fakeRuntime('far1', other);
  const shared = join(root, 'shared-x');
  const projects = [mkdtempSync(join(root, 'gw-a-')), mkdtempSync(join(root, 'gw-b-'))];
  for (const dir of projects) await installRuntime(dir, r1, shared);
  for (const f of r1.files) {
    const copy = statSync(join(shared, r1.name, f.name));
    assert.notEqual(copy.ino, statSync(f.path).ino, `${f.name}: the shared one is a copy`);
    for (const dir of projects) assert.equal(statSync(join(dir, r1.name, f.name)).ino, copy.ino, `${f.name}: each gateway links the one copy`);
    assert.equal(copy.nlink, 3, 'one copy, linked twice');
    assert.equal(copy.mode & 0o111, 0o111, 'executable');
  }
  // A new runtime: its copy replaces the old one in the shared directory; the gateways keep their own links.
  const r2 = fakeRuntime('far2', other);
  await installRuntime(projects[0]!, r2, shared);
  assert.deepEqual(runtimes(shared), [r2.name]);
  assert.deepEqual(runtimes(projects[0]!), [r1.name, r2.name].sort());
  assert.equal(readFileSync(join(projects[1]!, r1.name, 'node'), 'utf8'), 'node far1', 'the other gateway keeps its runtime');
  for (const dir of [shared, ...projects]) assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});
