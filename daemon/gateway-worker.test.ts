// Worker bundles and supervisor modules in a gateway directory: content-addressed names, the pointer, old ones pruned.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { installWorker, workerBundle, workerName } from './gateway-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'cgw-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (n: number) => ({ name: `worker-${String(n).repeat(16).slice(0, 16)}.mjs`, data: Buffer.from(`// bundle ${n}\n`) });

test('installWorker: writes the bundle once, points the supervisor at it, keeps the newest three', async () => {
  for (const n of [1, 2, 3, 4]) {
    await installWorker(dir, bundle(n));
    // Distinct mtimes, oldest first, as successive cmesh versions would leave them.
    utimesSync(join(dir, bundle(n).name), n * 1000, n * 1000);
  }
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'worker.json'), 'utf8')), { file: bundle(4).name });
  assert.equal(readFileSync(join(dir, bundle(4).name), 'utf8'), '// bundle 4\n');
  await installWorker(dir, bundle(4));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('worker-')).sort(), [bundle(2).name, bundle(3).name, bundle(4).name]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

test('installWorker: delivers the supervisor module beside the bundle, names it, and a new one alone renames the worker', async () => {
  const sub = mkdtempSync(join(dir, 'sup-'));
  const sup = (n: number) => ({ name: `supervisor-${String(n).repeat(16).slice(0, 16)}.mjs`, data: Buffer.from(`// supervisor ${n}\n`) });
  const names: string[] = [];
  for (const n of [1, 2, 3, 4]) {
    names.push(await installWorker(sub, { ...bundle(9), supervisor: sup(n) }));
    utimesSync(join(sub, sup(n).name), n * 1000, n * 1000);
  }
  assert.equal(new Set(names).size, 4, 'each supervisor gives the worker another name: the running worker asks for it');
  assert.ok(!names.includes(bundle(9).name));
  assert.deepEqual(JSON.parse(readFileSync(join(sub, 'worker.json'), 'utf8')), { file: names[3], supervisor: sup(4).name });
  assert.equal(readFileSync(join(sub, sup(4).name), 'utf8'), '// supervisor 4\n');
  assert.deepEqual(readdirSync(sub).filter((f) => f.startsWith('supervisor-')).sort(), [sup(2).name, sup(3).name, sup(4).name], 'old supervisors pruned');
});

test('workerBundle: the supervisor module comes with it; CMESH_GATEWAY_SUPERVISOR_SALT makes it another file', async () => {
  const plain = await workerBundle({ ...process.env, CMESH_GATEWAY_SUPERVISOR_SALT: '', CMESH_GATEWAY_WORKER_SALT: '' });
  const salted = await workerBundle({ ...process.env, CMESH_GATEWAY_SUPERVISOR_SALT: 'x', CMESH_GATEWAY_WORKER_SALT: '' });
  assert.match(plain.supervisor?.name ?? '', /^supervisor-[0-9a-f]{16}\.mjs$/);
  assert.match(plain.supervisor!.data.toString(), /export\s*\{[^}]*start/, 'a module exporting start for init');
  assert.equal(salted.name, plain.name, 'the same worker code');
  assert.notEqual(salted.supervisor!.name, plain.supervisor!.name);
  assert.notEqual(workerName(salted), workerName(plain), 'a new supervisor alone: a new worker name in the table');
});
