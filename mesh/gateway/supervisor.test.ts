// The gateway supervisor swaps its worker's code under load on one listening socket: callers on fresh connections see
// the answers change from v1 to v2 with 0 failures, and a broken bundle leaves the serving worker in place. Real
// processes (node cluster), loopback only, bounded in time.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, linkSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, get, INIT_ENTRY, load, ownSupervisor, until, workerFile as kitWorkerFile } from './supervisor-test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'cgw-sup-'));
let supervisor: ChildProcess | undefined;
after(() => {
  supervisor?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const workerFile = (name: string, version: string): string => kitWorkerFile(dir, name, version);

test('supervisor: the worker is swapped for a new bundle under load, 0 failed calls; a broken bundle is not', async () => {
  const port = await freePort();
  const v1 = workerFile('v1', 'v1');
  const v2 = workerFile('v2', 'v2');
  const broken = join(dir, 'broken.mjs');
  writeFileSync(broken, "throw new Error('this bundle is broken');\n");
  const entry = INIT_ENTRY;
  let out = '';
  supervisor = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: v1, PORT: String(port) } });
  supervisor.stdout!.on('data', (d) => (out += d));
  supervisor.stderr!.on('data', (d) => (out += d));
  await until('v1 to answer', 15_000, async () => (await get(port)) === 'v1');

  // Two callers for the whole run: fresh connections, and keep-alive ones (a pooled socket may sit on the old worker).
  const { seen, failures, last, stop } = load(port);
  // Conditions, not sleeps: a loaded host serves far fewer calls in a given 300 ms.
  await until('v1 to serve a few calls', 15_000, async () => seen.length > 10);
  await get(port, `/upgrade?${encodeURIComponent(v2)}`);
  // Both callers' latest answers too: the fresh caller can make 20 calls to v2 while the keep-alive one still waits
  // for v1's answer on its old connection (seen under CI's load).
  await until('v2 to answer', 15_000, async () => seen.slice(-20).every((b) => b === 'v2') && seen.length > 20 && last.fresh === 'v2' && last.keepAlive === 'v2');
  // The old worker drains for a notice period and still accepts meanwhile, so a fresh connection may reach v1 after a
  // v2 answer (seen under CI's load). Once it is gone, each caller's next answer is from v2 for good; an answer v1 was
  // writing as it went lands first (each caller makes one call at a time).
  await until('the old worker to be gone', 15_000, async () => out.includes('a retired worker'));
  last.fresh = undefined;
  last.keepAlive = undefined;
  await until('both callers to answer after it', 15_000, async () => last.fresh === 'v2' && last.keepAlive === 'v2');
  const afterSwap = seen.length;
  // A bundle that throws on start: the supervisor keeps v2 serving.
  await get(port, `/upgrade?${encodeURIComponent(broken)}`);
  await until('the broken worker to be given up', 10_000, async () => out.includes('exited before it was ready'));
  const afterBroken = seen.length;
  await until('calls to be served after the broken upgrade', 15_000, async () => seen.length - afterBroken > 10);
  await stop();

  const v1s = seen.filter((b) => b === 'v1').length;
  process.stdout.write(`# supervisor swap under load: ${seen.length} ok (${v1s} v1, ${seen.length - v1s} v2), failed ${JSON.stringify(failures)}\n`);
  assert.deepEqual(failures, [], `no call failed:\n${out}`);
  assert.ok(v1s > 10, `v1 served before the swap (${v1s})`);
  assert.ok(seen.slice(afterSwap).every((b) => b === 'v2'), 'only v2 after the swap, the broken bundle never answered');
  assert.ok(seen.length - afterBroken > 10, 'calls kept being served after the broken upgrade');
  assert.match(out, /now serving from .*v2\.mjs/);

  // SIGTERM: the workers drain and the supervisor exits.
  const exited = new Promise((r) => supervisor!.once('exit', r));
  supervisor.kill('SIGTERM');
  await exited;
});

test('supervisor: a worker that dies unasked is started again from the same bundle; the supervisor stays', async () => {
  const port = await freePort();
  const v1 = workerFile('crashy', 'crashy');
  const entry = INIT_ENTRY;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: v1, PORT: String(port) } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await until('the worker to answer', 15_000, async () => (await get(port)) === 'crashy');
    await get(port, '/exit');
    await until('the worker to be gone', 5000, async () => out.includes('the worker exited'));
    await until('a new worker to answer', 10_000, async () => (await get(port)) === 'crashy');
    assert.equal(child.exitCode, null, 'the supervisor did not exit');
  } finally {
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
    child.kill('SIGKILL');
  }
});

test('supervisor: a worker runs on the runtime worker.json or an upgrade names; an unspawnable one is given up', async () => {
  const port = await freePort();
  // A "new node": the same binary under another path (a hard link; a copy across filesystems).
  const runtime = join(dir, 'node-0123456789abcdef');
  try {
    linkSync(realpathSync(process.execPath), runtime);
  } catch {
    copyFileSync(realpathSync(process.execPath), runtime);
  }
  workerFile('rt1', 'rt1');
  const v2 = workerFile('rt2', 'rt2');
  const v3 = workerFile('rt3', 'rt3');
  writeFileSync(join(dir, 'worker.json'), JSON.stringify({ file: 'rt1.mjs', runtime: 'node-0123456789abcdef' }));
  const entry = INIT_ENTRY;
  const env = { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: join(dir, 'worker.json'), PORT: String(port) };
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    await until('the first worker to answer', 15_000, async () => (await get(port)) === 'rt1');
    assert.equal(await get(port, '/exe'), runtime, 'the first worker runs on the runtime worker.json names');
    // The runtime is gone: spawning fails, the worker is given up and rt1 keeps serving on its runtime.
    await get(port, `/upgrade-on?${encodeURIComponent(`${v2}|${join(dir, 'node-gone')}`)}`);
    await until('the unspawnable worker to be given up', 5000, async () => out.includes('could not start on'));
    assert.equal(await get(port), 'rt1');
    // An upgrade naming no runtime keeps the current worker's.
    await get(port, `/upgrade?${encodeURIComponent(v3)}`);
    await until('rt3 to serve', 15_000, async () => out.includes('now serving from') && (await get(port)) === 'rt3');
    // rt1 drains (and still accepts) for drainNoticeMs (500 ms): after it, every call reaches rt3.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await get(port, '/exe'), runtime);
    // Respawned after a crash: on the same runtime.
    await get(port, '/exit');
    await until('the worker to be gone', 5000, async () => out.includes('the worker exited'));
    await until('a new worker to answer', 10_000, async () => (await get(port)) === 'rt3');
    assert.equal(await get(port, '/exe'), runtime);
    assert.equal(child.exitCode, null, `the supervisor did not exit:\n${out}`);
  } finally {
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
    child.kill('SIGKILL');
  }
});

test('supervisor: worker.json naming a runtime that is gone starts the worker on the supervisor node', async () => {
  const port = await freePort();
  workerFile('gone1', 'gone1');
  const pointer = join(dir, 'worker-gone.json');
  writeFileSync(pointer, JSON.stringify({ file: 'gone1.mjs', runtime: 'node-ffffffffffffffff' }));
  const entry = INIT_ENTRY;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: pointer, PORT: String(port) } });
  try {
    await until('the worker to answer', 15_000, async () => (await get(port)) === 'gone1');
    assert.equal(await get(port, '/exe'), process.execPath);
  } finally {
    child.kill('SIGKILL');
  }
});
