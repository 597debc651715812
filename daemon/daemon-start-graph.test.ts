// What a daemon start evaluates stays for the daemon's life (bench/RESULTS.md, rss section): the libraries only a rare
// verb needs are imported where that verb runs. The X.509 stack (@peculiar/x509, asn1js, tsyringe, reflect-metadata)
// serves only `x-cmesh.tls` ports and `cmesh ca`/`cert` (daemon/tls-service.ts imports mesh/tls/ca.ts on first use).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LAZY_ONLY = ['@peculiar/x509', 'asn1js', 'tsyringe', 'reflect-metadata'];

const packageOf = (url: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

/** The packages (and our modules) `entry` imports statically, as node's module resolution saw them. */
async function loadedBy(dir: string, entry: string, then = ''): Promise<{ urls: string[]; stdout: string }> {
  const out = join(dir, 'resolved.txt');
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const r = await next(specifier, context);\n  appendFileSync(${JSON.stringify(out)}, r.url + '\\n');\n  return r;\n}\n`,
  );
  await writeFile(out, '');
  const script = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)}); await import(${JSON.stringify(pathToFileURL(join(REPO, entry)).href)}); ${then}`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return { urls: (await readFile(out, 'utf8')).split('\n').filter(Boolean), stdout: run.stdout };
}

test("a daemon start does not load the X.509 stack; the CA's first use does", { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-daemon-graph-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const start = await loadedBy(dir, 'daemon/main.ts', 'console.log(typeof Reflect.getMetadata);');
  const packages = new Set(start.urls.map(packageOf).filter((p) => p !== undefined));
  assert.ok(packages.has('dockerode') && packages.has('prom-client'), `the list is the start graph: ${[...packages].join(', ')}`);
  assert.ok(start.urls.some((u) => u.endsWith('/daemon/tls-service.ts')), 'the TLS service itself is part of the start');
  assert.deepEqual(LAZY_ONLY.filter((p) => packages.has(p)), [], 'a static import chain from daemon/main.ts reaches these (find it with esbuild --metafile)');
  assert.equal(start.stdout.trim(), 'undefined', 'reflect-metadata was not evaluated');
  // The same hooks see the stack when mesh/tls/ca.ts is imported (what tls-service.ts does on the CA's first use).
  const ca = new Set((await loadedBy(dir, 'mesh/tls/ca.ts')).urls.map(packageOf));
  assert.ok(ca.has('@peculiar/x509') && ca.has('reflect-metadata'), 'mesh/tls/ca.ts loads the X.509 stack');
});
