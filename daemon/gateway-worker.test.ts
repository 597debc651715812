// Worker bundles in a gateway directory: content-addressed names, the supervisor's pointer, old bundles pruned.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { installWorker } from './gateway-worker.ts';

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
