// The east-west gateway's bundles, built (or found fresh) by the daemon's own gatewayBundle(), carry no zod classic:
// the gateway validates its table with zod/mini (daemon/api/gateway-control.ts). Classic was 723 KB of the worker's
// 1 020 KB and ~14 MB of its RSS at boot, on every `up`'s critical path (issue #15, bench/RESULTS.md session 18).

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scopedName } from '../bin/bundle-cache.mjs';
import { GATEWAY_BUNDLES, gatewayBundle } from './gateway-bundle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** zod/mini and zod core (~320 KB in all, session 18) fit; classic's 720 KB more would not. */
const MAX_WORKER_BYTES = 600_000;

/** The files esbuild read for the bundle at `path`, from the manifest installed beside it. */
function inputsOf(label: string, path: string): string[] {
  const dir = dirname(dirname(path));
  const manifest = JSON.parse(readFileSync(join(dir, `${scopedName(ROOT, label)}-bundle.json`), 'utf8')) as { bundle: string; inputs: string[] };
  // The manifest is this bundle's (another build may have installed a newer one meanwhile: then the test says so).
  assert.equal(manifest.bundle, relative(dir, path), `${label}: the manifest beside the bundle names it`);
  return manifest.inputs;
}

const zodFiles = (inputs: string[]): string[] => inputs.filter((p) => p.split(sep).join('/').includes('/node_modules/zod/'));

test('no gateway bundle holds zod classic; the worker validates with zod/mini and stays small', { timeout: 180_000 }, async () => {
  for (const label of Object.keys(GATEWAY_BUNDLES)) {
    const built = await gatewayBundle(label);
    assert.ok(built.path, `${label}: ${built.error}`);
    const zod = zodFiles(inputsOf(label, built.path));
    const classic = zod.filter((p) => /\/zod\/(v4\/classic\/|v3\/|index\.js$|v4\/index\.js$)/.test(p.split(sep).join('/')));
    assert.deepEqual(classic, [], `${label} bundles zod classic`);
    if (label !== 'gateway') continue;
    // The worker does validate (its table): through zod/mini, so a failed import elsewhere cannot pass this vacuously.
    assert.ok(zod.some((p) => p.split(sep).join('/').includes('/zod/v4/mini/')), `the worker bundles zod/mini: ${zod.join(', ')}`);
    const bytes = statSync(built.path).size;
    assert.ok(bytes < MAX_WORKER_BYTES, `the worker bundle is ${bytes} bytes (limit ${MAX_WORKER_BYTES})`);
  }
});
