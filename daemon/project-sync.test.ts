// syncReplicas on the fake engine: files go into every running replica of the service, and sync+restart restarts
// them one at a time, drained, then wakes the loop.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CmeshError } from './api/errors.ts';
import { engineWithProject, recordingMesh } from './project-testing.ts';
import { syncReplicas } from './project-sync.ts';
import { desired, project, svc } from './reconcile/testing.ts';

const shop = desired(project('shop', [svc('web', { replicas: 3, stopGracePeriodMs: 2_000 }), svc('worker')]));

test('sync copies into the running replicas only; sync+restart restarts them one by one, drained, and wakes the loop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-sync-'));
  try {
    const file = join(dir, 'index.js');
    await writeFile(file, 'console.log(1)\n');
    const log: string[] = [];
    const engine = await engineWithProject(shop, log);
    engine.simulateExit('shop-web-3', 1);
    const wakes: string[] = [];
    const ctx = { engine, mesh: recordingMesh(log), project: 'shop', desired: () => shop, wake: (r: string) => void wakes.push(r) };

    const copied = await syncReplicas(ctx, { service: 'web', files: [{ path: file, containerPath: '/app/index.js', kind: 'change' }], restart: false });
    assert.deepEqual({ ...copied, durationMs: 0 }, { containers: 2, copied: ['/app/index.js'], deleted: [], restarted: 0, durationMs: 0 });
    assert.equal(engine.archives.length, 2);
    assert.deepEqual(log, []);
    assert.deepEqual(wakes, []);

    const restarted = await syncReplicas(ctx, { service: 'web', files: [{ path: file, containerPath: '/app/index.js', kind: 'change' }], restart: true });
    assert.equal(restarted.restarted, 2);
    assert.deepEqual(log, [
      'drain shop shop-web-1 2000ms',
      'stop shop-web-1',
      'undrain shop shop-web-1',
      'start shop-web-1',
      'drain shop shop-web-2 2000ms',
      'stop shop-web-2',
      'undrain shop shop-web-2',
      'start shop-web-2',
    ]);
    assert.deepEqual(wakes, ['sync+restart']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sync+exec runs the command in every running replica with its options; a failing replica is CMESH_E_HOOK_FAILED', async () => {
  const log: string[] = [];
  const engine = await engineWithProject(shop, log);
  const execs: string[] = [];
  engine.setExecHandler((c, command, options) => {
    execs.push(`${c.spec.name} ${command.join(' ')} ${JSON.stringify(options)}`);
    return { exitCode: c.spec.name.endsWith('-2') ? 2 : 0, output: 'reload failed\n' };
  });
  const ctx = { engine, mesh: recordingMesh(log), project: 'shop', desired: () => shop, wake: () => undefined };
  const exec = { command: ['kill', '-HUP', '1'], user: 'app', env: { A: '1' } };
  await assert.rejects(syncReplicas(ctx, { service: 'web', files: [], restart: false, exec }), (e: CmeshError) => {
    assert.equal(e.code, 'CMESH_E_HOOK_FAILED');
    assert.match(e.message, /shop-web-2 exited with code 2: reload failed/);
    return true;
  });
  assert.deepEqual(execs, [1, 2, 3].map((i) => `shop-web-${i} kill -HUP 1 {"user":"app","env":{"A":"1"}}`));
  engine.setExecHandler(() => ({ exitCode: 0, output: '' }));
  const ok = await syncReplicas(ctx, { service: 'web', files: [], restart: false, exec });
  assert.equal(ok.executed, 3);
});
