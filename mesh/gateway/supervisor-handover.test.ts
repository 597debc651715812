// A new supervisor module takes over the running one in the same process, under load on one listening socket: init
// loads it, the old one hands off its state (the workers, the pending swap), the new one adopts it and swaps the
// worker. 0 failed calls, the same primary pid and the same listening socket (its inode) throughout. A module that
// cannot load, or throws when it adopts, leaves the old one supervising (it takes its state back). Real processes
// (node cluster), loopback only, bounded in time.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { freePort, get, INIT_ENTRY, load, ownSupervisor, until, workerFile } from './supervisor-test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'cgw-handover-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Two supervisor modules as the daemon delivers them (one bundle each; the second differs by a comment). */
async function supervisorModules(): Promise<[string, string]> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./supervisor-main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  const [a, b] = [join(dir, 'supervisor-aaaaaaaaaaaaaaaa.mjs'), join(dir, 'supervisor-bbbbbbbbbbbbbbbb.mjs')];
  writeFileSync(a, code);
  writeFileSync(b, `${code}\n// another cmesh\n`);
  return [a, b];
}

/** The inodes of the sockets listening on 127.0.0.1:`port` (one, held by the primary for every worker). */
function listeningInodes(port: number): string[] {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] === '0A')
    .map((f) => f[9]!);
}

test('supervisor hand-over under load: same pid, same socket, workers adopted, 0 failed; a broken module keeps the old one', { skip: process.platform !== 'linux' && 'reads /proc/net/tcp' }, async () => {
  const port = await freePort();
  const [, supB] = await supervisorModules();
  workerFile(dir, 'w1', 'w1');
  const w2 = workerFile(dir, 'w2', 'w2');
  const w3 = workerFile(dir, 'w3', 'w3');
  const w4 = workerFile(dir, 'w4', 'w4');
  const unloadable = join(dir, 'supervisor-cccccccccccccccc.mjs');
  writeFileSync(unloadable, "throw new Error('this supervisor is broken');\n");
  const refuses = join(dir, 'supervisor-dddddddddddddddd.mjs');
  writeFileSync(refuses, "export function start() { throw new Error('cannot adopt this'); }\n");
  writeFileSync(join(dir, 'worker.json'), JSON.stringify({ file: 'w1.mjs', supervisor: 'supervisor-aaaaaaaaaaaaaaaa.mjs' }));
  // No fallback: init must start the module worker.json names.
  const env = { ...process.env, CMESH_GATEWAY_SUPERVISOR: join(dir, 'none.mjs'), CMESH_GATEWAY_WORKER: join(dir, 'worker.json'), PORT: String(port) };
  const child = spawn(process.execPath, ['--import', 'tsx', INIT_ENTRY], { env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // The swap is asked of the current worker; a call may still land on the one draining after a swap (it ignores it).
  const ask = (file: string, supervisor: string) =>
    until(`a hand-over to ${supervisor} to be asked`, 10_000, async () => {
      await get(port, `/upgrade-sup?${encodeURIComponent(`${file}|${supervisor}`)}`);
      return out.includes(`handing over to ${supervisor}`);
    });
  try {
    await until('w1 to answer', 15_000, async () => (await get(port)) === 'w1');
    const primary = await get(port, '/ppid');
    const w1Pid = Number(await get(port, '/pid'));
    const sockets = listeningInodes(port);
    assert.equal(sockets.length, 1, 'one listening socket');

    const calls = load(port);
    await until('w1 to serve a few calls', 15_000, async () => calls.seen.length > 10);
    // A new supervisor and a new worker, as a new cmesh brings: init loads B, A hands off, B adopts w1 and swaps to w2.
    await ask(w2, supB);
    await until('B to take over and serve w2', 15_000, async () => out.includes(`${supB} took over`) && /now serving from .*w2\.mjs/.test(out));
    await until('w2 to answer', 15_000, async () => calls.seen.slice(-20).every((b) => b === 'w2'));
    assert.equal(await get(port, '/ppid'), primary, 'the same primary process');
    assert.deepEqual(listeningInodes(port), sockets, 'the same listening socket');
    // w1 was adopted: B drained and retired it (A was detached); its process is gone.
    await until('w1 to exit', 15_000, async () => !alive(w1Pid));

    // A module that cannot load: B takes its state back and still does the swap it was asked for.
    await ask(w3, unloadable);
    await until('w3 to answer under B', 15_000, async () => (await get(port)) === 'w3' && out.includes(`${supB} keeps supervising`));
    // A module that throws when it adopts: the same.
    await ask(w4, refuses);
    await until('w4 to answer under B', 15_000, async () => (await get(port)) === 'w4' && out.includes('could not take over'));
    await calls.stop();
    process.stdout.write(`# supervisor hand-over under load: ${calls.seen.length} ok, failed ${JSON.stringify(calls.failures)}\n`);
    assert.deepEqual(calls.failures, [], `no call failed:\n${out}`);
    assert.equal(await get(port, '/ppid'), primary, 'still the same primary process');
    assert.deepEqual(listeningInodes(port), sockets, 'still the same listening socket');

    // B still supervises (out of the load: no worker accepts until the respawn): a worker that dies is started again.
    const tail = () => out.split(`${refuses} could not take over`)[1] ?? '';
    await until('the current worker to exit', 10_000, async () => {
      await get(port, '/exit').catch(() => '');
      return tail().includes('the worker exited');
    });
    await until('w4 to be respawned', 15_000, async () => (await get(port)) === 'w4');
    assert.match(out, /cannot load .*supervisor-cccccccccccccccc\.mjs: this supervisor is broken/);
    assert.equal(child.exitCode, null, 'init did not exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  } finally {
    if (process.env['SUP_DEBUG']) process.stdout.write(out.replace(/^/gm, '# '));
    child.kill('SIGKILL');
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('init: a supervisor module worker.json names that cannot load: the image’s own supervisor starts the worker', async () => {
  const port = await freePort();
  workerFile(dir, 'f1', 'f1');
  const pointer = join(dir, 'worker-fallback.json');
  writeFileSync(join(dir, 'supervisor-eeeeeeeeeeeeeeee.mjs'), 'this is not javascript(\n');
  writeFileSync(pointer, JSON.stringify({ file: 'f1.mjs', supervisor: 'supervisor-eeeeeeeeeeeeeeee.mjs' }));
  const env = { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: pointer, PORT: String(port) };
  const child = spawn(process.execPath, ['--import', 'tsx', INIT_ENTRY], { env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await until('f1 to answer', 15_000, async () => (await get(port)) === 'f1');
    assert.match(out, /init: cannot start .*supervisor-eeeeeeeeeeeeeeee\.mjs: .*; starting .*supervisor-main\.ts/);
  } finally {
    child.kill('SIGKILL');
  }
});
