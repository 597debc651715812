// A worker that exits as soon as it starts: on a delivered runtime it falls back to the supervisor's node after a few
// tries (logged once), and on the supervisor's node it is retried with a doubling delay, not every second forever.
// The decision table, then real processes (node cluster, a runtime directory whose loader exits 127), loopback only.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_RESPAWN, decideRespawn } from './supervisor-respawn.ts';
import { RUNTIME_LOADER } from './supervisor-runtime.ts';
import { freePort, get, INIT_ENTRY, ownSupervisor, until, workerFile } from './supervisor-test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'cgw-respawn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('respawn decisions: early exits back off by doubling up to the cap, a delivered runtime is left after 3', () => {
  const early = (onRuntime: boolean) => ({ ranMs: 50, onRuntime });
  let n = 0;
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const d = decideRespawn(DEFAULT_RESPAWN, n, early(false));
    assert.equal(d.fallBack, false, 'the supervisor node has nothing to fall back to');
    delays.push(d.delayMs);
    n = d.earlyExits;
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  // A worker that served long enough resets the delay.
  assert.deepEqual(decideRespawn(DEFAULT_RESPAWN, n, { ranMs: 10_000, onRuntime: false }), { delayMs: 1000, fallBack: false, earlyExits: 0 });

  const onRuntime = [0, 1, 2].map((k) => decideRespawn(DEFAULT_RESPAWN, k, early(true)));
  assert.deepEqual(onRuntime.map((d) => [d.delayMs, d.fallBack]), [[1000, false], [2000, false], [1000, true]]);
  assert.equal(onRuntime[2]!.earlyExits, 0, 'the supervisor node starts its own count');
  // Late exits on a runtime never make it fall back.
  assert.equal(decideRespawn(DEFAULT_RESPAWN, 2, { ranMs: 60_000, onRuntime: true }).fallBack, false);
});

/** Init on `worker` (a bundle or a worker.json); its output collected. */
function startInit(worker: string, port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', INIT_ENTRY], { env: { ...process.env, ...ownSupervisor, CMESH_GATEWAY_WORKER: worker, PORT: String(port) } });
  const out = { text: '' };
  child.stdout!.on('data', (d) => (out.text += d));
  child.stderr!.on('data', (d) => (out.text += d));
  return { child, out };
}

test('supervisor: a runtime whose loader exits at once is left for the supervisor node after 3 tries, logged once', async () => {
  const port = await freePort();
  workerFile(dir, 'fb', 'fb');
  // A delivered runtime directory whose loader cannot run node (as a loader missing a library would: exit 127).
  const runtime = join(dir, 'runtime-0123456789abcdef');
  mkdirSync(join(runtime, 'lib'), { recursive: true });
  writeFileSync(join(runtime, RUNTIME_LOADER), '#!/bin/sh\nexit 127\n');
  chmodSync(join(runtime, RUNTIME_LOADER), 0o755);
  writeFileSync(join(dir, 'worker-fb.json'), JSON.stringify({ file: 'fb.mjs', runtime: 'runtime-0123456789abcdef' }));
  const { child, out } = startInit(join(dir, 'worker-fb.json'), port);
  try {
    await until('the worker to answer on the fallback', 20_000, async () => (await get(port)) === 'fb');
    assert.equal(await get(port, '/exe'), process.execPath, 'the worker runs on the supervisor node');
    const exits = out.text.match(/the worker exited \(127 after \d+ ms\); starting it again in (\d+) ms/g) ?? [];
    assert.deepEqual(exits.map((l) => l.replace(/after \d+ ms/, 'after N ms')), [
      'the worker exited (127 after N ms); starting it again in 1000 ms',
      'the worker exited (127 after N ms); starting it again in 2000 ms',
    ], out.text);
    assert.equal(out.text.split(`starting it on the supervisor's node ${process.execPath} from now on`).length - 1, 1, `the fallback is logged once:\n${out.text}`);
    assert.match(out.text, /exited 3 times in a row soon after it started on .*runtime-0123456789abcdef \(last: 127 after \d+ ms\)/);
    // It keeps serving: nothing more exits.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await get(port), 'fb');
    assert.equal((out.text.match(/the worker exited/g) ?? []).length, 3, out.text);
  } finally {
    child.kill('SIGKILL');
  }
});

test('supervisor: a bundle that exits at once on the supervisor node is retried after 1, 2, 4 s, not every second', async () => {
  const bundle = join(dir, 'dies.mjs');
  writeFileSync(bundle, 'process.exit(5);\n');
  const { child, out } = startInit(bundle, await freePort());
  const seenAt: number[] = [];
  const started = Date.now();
  try {
    await until('four exits', 20_000, async () => {
      const n = (out.text.match(/the worker exited/g) ?? []).length;
      while (seenAt.length < n) seenAt.push(Date.now() - started);
      return n >= 4;
    });
    const delays = [...out.text.matchAll(/the worker exited \(5 after \d+ ms\); starting it again in (\d+) ms/g)].map((m) => Number(m[1]));
    assert.deepEqual(delays.slice(0, 4), [1000, 2000, 4000, 8000], out.text);
    // The gaps between exits follow the delays (each at least its delay; a worker's start adds to it).
    const gaps = seenAt.slice(1).map((t, i) => t - seenAt[i]!);
    assert.ok(gaps[0]! >= 900 && gaps[1]! >= 1900 && gaps[2]! >= 3900, `gaps ${gaps.join(', ')} ms`);
    assert.equal(child.exitCode, null, 'the supervisor stays');
  } finally {
    child.kill('SIGKILL');
  }
});
