// A runtime directory as the daemon delivers it (the host's node, its real loader and libraries, hard-linked or
// copied) is what a gateway worker runs on: the supervisor forks it through that loader with that library path, so
// the worker maps the delivered libraries, not the ones its container's image (here: the host) holds. One that cannot
// start is given up and the worker that serves keeps serving. Real processes (node cluster), loopback only.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, get, INIT_ENTRY, load, ownSupervisor, until, workerFile } from '../mesh/gateway/supervisor-test-kit.ts';
import { hostRuntime, installRuntime } from './gateway-runtime.ts';

const root = mkdtempSync(join(tmpdir(), 'cgw-rtl-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a worker runs through its runtime directory loader, on its libraries; an unstartable runtime is given up', { skip: process.platform !== 'linux' && 'needs ldd and /proc' }, async () => {
  const dir = join(root, 'gw');
  mkdirSync(dir);
  const runtime = await hostRuntime({});
  await installRuntime(dir, runtime, join(root, 'shared'));
  const rt = join(dir, runtime.name);
  for (const f of runtime.files) assert.ok(lstatSync(join(rt, f.name)).isFile(), `${f.name}: a file of its own in the directory, not a symlink`);
  workerFile(dir, 'v1', 'v1');
  const v2 = workerFile(dir, 'v2', 'v2');
  const v3 = workerFile(dir, 'v3', 'v3');
  writeFileSync(join(dir, 'worker.json'), JSON.stringify({ file: 'v1.mjs', runtime: runtime.name }));
  // Runtimes that cannot start: no loader at all (the spawn fails), and a loader with no node beside it (it exits).
  const noLoader = join(dir, 'runtime-00000000000000aa');
  mkdirSync(join(noLoader, 'lib'), { recursive: true });
  const noNode = join(dir, 'runtime-00000000000000bb');
  mkdirSync(join(noNode, 'lib'), { recursive: true });
  copyFileSync(join(rt, 'ld.so'), join(noNode, 'ld.so'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', INIT_ENTRY], { env: { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: join(dir, 'worker.json'), PORT: String(port) } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    await until('the worker on the runtime directory to answer', 15_000, async () => (await get(port)) === 'v1');
    assert.equal(await get(port, '/exe'), join(rt, 'ld.so'), 'the worker process is the runtime directory loader');
    const libs = JSON.parse(await get(port, '/libs')) as string[];
    const libc = libs.filter((f) => /\/libc\.so/.test(f));
    assert.deepEqual(libc, [join(rt, 'lib', 'libc.so.6')], `libc from the runtime directory only: ${libs.join(', ')}`);
    assert.ok(libs.every((f) => f.startsWith(`${rt}/`) || !/\/lib(c|m|stdc\+\+|gcc_s|pthread|dl)[.-]/.test(f)), `no library node links from elsewhere: ${libs.join(', ')}`);

    const { seen, failures, stop } = load(port, 30_000);
    await get(port, `/upgrade-on?${encodeURIComponent(`${v2}|${noLoader}`)}`);
    await until('the runtime without a loader to be given up', 10_000, async () => out.includes(`could not start on ${noLoader}`));
    await get(port, `/upgrade-on?${encodeURIComponent(`${v2}|${noNode}`)}`);
    await until('the runtime without node to be given up', 10_000, async () => out.includes('exited before it was ready'));
    assert.equal(await get(port), 'v1', 'v1 kept serving');
    // A good runtime directory under load: swapped with 0 failed calls.
    await get(port, `/upgrade-on?${encodeURIComponent(`${v3}|${rt}`)}`);
    await until('v3 to serve', 15_000, async () => seen.slice(-10).every((b) => b === 'v3') && seen.includes('v3'));
    await stop();
    assert.deepEqual(failures, [], `no call failed:\n${out}`);
    assert.equal(await get(port, '/exe'), join(rt, 'ld.so'));
    assert.equal(child.exitCode, null, `the supervisor did not exit:\n${out}`);
  } finally {
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
    child.kill('SIGKILL');
  }
});
