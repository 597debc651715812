// gateway-bundle.ts: a stale gateway bundle is built by a child node process, not by the daemon's own (esbuild's JS
// API, its output and the input hashing stayed in the daemon's RSS). A throwaway package root with one entry, its
// cache inside it.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { BUNDLE_LOG, buildInChild } from './gateway-bundle.ts';

/** A package root whose node_modules holds only tsx (bundle-cache.mjs finds esbuild through it) and the cache. */
async function root(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cmesh-gwbundle-'));
  const tsx = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  await mkdir(join(dir, 'node_modules'));
  await symlink(tsx, join(dir, 'node_modules', 'tsx'));
  await writeFile(join(dir, 'package.json'), '{"name":"t","type":"module"}\n');
  await writeFile(join(dir, 'tsconfig.json'), '{}\n');
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/**
 * The comm names of this process's direct children, polled until `done` settles. Each poll reads only this process's
 * own `children` lists (one small file a thread): a scan of all of /proc under load could take longer than the build's
 * child lives, and a process born after its directory listing was never looked at.
 */
async function childrenWhile<T>(done: Promise<T>): Promise<{ value: T; seen: Set<string> }> {
  const seen = new Set<string>();
  let over = false;
  const value = done.finally(() => (over = true));
  while (!over) {
    for (const tid of await readdir('/proc/self/task').catch(() => [] as string[])) {
      const children = await readFile(`/proc/self/task/${tid}/children`, 'utf8').catch(() => '');
      for (const pid of children.split(' ').filter(Boolean)) {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
        if (comm) seen.add(`${pid}:${comm}`);
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { value: await value, seen };
}

const names = (seen: Set<string>): string[] => [...seen].map((s) => s.slice(s.indexOf(':') + 1));

test('a stale bundle is built in a child node process: no esbuild service of this process starts for it', { skip: process.platform !== 'linux' }, async () => {
  const dir = await root({ 'entry.ts': "export const answer: number = 42;\nconsole.log('gw', answer);\n" });
  try {
    // esbuild services this process had already (tsx's own, under the test runner) are not the build's.
    const before = (await childrenWhile(Promise.resolve())).seen;
    const { value, seen } = await childrenWhile(buildInChild(dir, { 'gateway-x': 'entry.ts' }, process.env));
    const path = value['gateway-x']?.path;
    assert.ok(path, `built: ${JSON.stringify(value)}`);
    assert.match(await readFile(path, 'utf8'), /console\.log\("gw", answer\)/);
    const fresh = [...seen].filter((s) => !before.has(s));
    assert.ok(names(new Set(fresh)).includes('node'), `a node child ran the build: ${JSON.stringify(fresh)}`);
    assert.ok(!names(new Set(fresh)).includes('esbuild'), `no esbuild service of this process: ${JSON.stringify(fresh)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a build error is the label's error, with esbuild's location; the other labels still build", async () => {
  const dir = await root({ 'good.ts': 'export const a = 1;\n', 'bad.ts': 'export const = ;\n' });
  try {
    const out = await buildInChild(dir, { 'gateway-good': 'good.ts', 'gateway-bad': 'bad.ts' }, process.env);
    assert.ok(out['gateway-good']?.path, JSON.stringify(out));
    assert.match(out['gateway-bad']?.error ?? '', /bad\.ts:1:/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a root the child cannot build from: every label gets its error, and the call does not reject', async () => {
  const out = await buildInChild('/nonexistent-cmesh-root', { 'gateway-a': 'a.ts', 'gateway-b': 'b.ts' }, { ...process.env, PATH: '' });
  assert.deepEqual(Object.keys(out).sort(), ['gateway-a', 'gateway-b']);
  for (const r of Object.values(out)) assert.equal(typeof r.error, 'string');
});

test('a child build is said in the log as it starts and ends, with what failed (bench/up.ts reads these lines)', async () => {
  const dir = await root({ 'good.ts': 'export const a = 1;\n', 'bad.ts': 'export const = ;\n' });
  try {
    const lines: string[] = [];
    await buildInChild(dir, { 'gateway-good': 'good.ts', 'gateway-bad': 'bad.ts' }, process.env, (l) => lines.push(l));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(lines[0], `${BUNDLE_LOG} checking gateway-good, gateway-bad in a child process (built if stale)`);
    assert.match(lines[1]!, new RegExp(`^${BUNDLE_LOG} built gateway-good in \\d+ ms \\(failed: gateway-bad\\)$`));
    // Again: the good one is found unchanged by the child, nothing is built.
    lines.length = 0;
    const again = await buildInChild(dir, { 'gateway-good': 'good.ts' }, process.env, (l) => lines.push(l));
    assert.equal(again['gateway-good']?.built, false, JSON.stringify(again));
    assert.match(lines[1]!, new RegExp(`^${BUNDLE_LOG} nothing built in \\d+ ms \\(unchanged: gateway-good\\)$`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
