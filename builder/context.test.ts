// Build contexts: golden tar bytes, Docker's selection rules, symlink safety, limits and readable errors.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CmeshError } from '../daemon/api/errors.ts';
import { createBuildContext } from './context.ts';
import { makeTree, parseTar, readAll, type TreeRow, tempDir } from './testing.ts';
import { nodeWithoutDac } from '../test/helpers/without-dac.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/builder/', import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
after(() => Promise.all(cleanups.map((c) => c())));

async function temp(prefix: string): Promise<string> {
  const t = await tempDir(prefix);
  cleanups.push(t[Symbol.asyncDispose]);
  return t.path;
}

/**
 * The golden tree: committed files from fixtures/builder/ctx-basic plus what git cannot carry reliably (modes,
 * symlinks, .git, node_modules, *.log which the repo's .gitignore drops). Modes are set explicitly so the tar does
 * not depend on the checkout's umask.
 */
const GOLDEN_EXTRA: TreeRow[] = [
  ['debug.log', 'noise\n', 0o644],
  ['src/current', { link: 'lib' }],
  ['src/lib/util-link.js', { link: 'util.js' }],
  ['node_modules/dep/index.js', 'module.exports = 1;\n', 0o644],
  ['.git/HEAD', 'ref: refs/heads/main\n', 0o644],
  ['empty', { dir: true }, 0o755],
];
const GOLDEN_MODES: [string, number][] = [
  ['.', 0o755],
  ['src', 0o755],
  ['src/lib', 0o755],
  ['secrets', 0o700],
  ['docs', 0o775],
  ['dist', 0o755],
  ['Dockerfile', 0o644],
  ['.dockerignore', 0o644],
  ['app.js', 0o664],
  ['run.sh', 0o755],
  ['src/lib/util.js', 0o600],
  ['src/lib/cache.tmp', 0o644],
  ['secrets/public.pem', 0o644],
  ['secrets/private.pem', 0o600],
  ['docs/README.md', 0o644],
  ['docs/guide.md', 0o644],
  ['dist/bundle.js', 0o644],
];

let golden: string;
before(async () => {
  golden = await temp('cm-golden-');
  await cp(join(FIXTURES, 'ctx-basic'), golden, { recursive: true });
  await makeTree(golden, GOLDEN_EXTRA);
  for (const [p, mode] of GOLDEN_MODES) await chmod(join(golden, p), mode);
});

function describe(entries: { type: string; mode: number; name: string; linkname?: string }[]): string {
  return entries.map((e) => `${e.type} ${e.mode.toString(8)} ${e.name}${e.linkname ? ` -> ${e.linkname}` : ''}`).join('\n');
}

test('golden context: identical bytes across runs, equal to the committed listing and sha256', async () => {
  const a = await createBuildContext({ contextDir: golden, dockerfile: 'Dockerfile' });
  const b = await createBuildContext({ contextDir: golden });
  const bytesA = await readAll(a.tar);
  const bytesB = await readAll(b.tar);
  assert.ok(bytesA.equals(bytesB), 'two runs give the same bytes');
  assert.equal(a.hash, b.hash);
  assert.ok(bytesA.equals(await readAll(a.openTar())), 'openTar() reproduces the tar');

  const entries = await parseTar(bytesA);
  const listing = describe(entries);
  const sha = createHash('sha256').update(bytesA).digest('hex');
  if (process.env.CMESH_UPDATE_GOLDEN === '1') {
    // Regenerate after an intended format change, then review the diff of the listing before committing.
    await writeFile(join(FIXTURES, 'ctx-basic.entries.txt'), `${listing}\n`);
    await writeFile(join(FIXTURES, 'ctx-basic.tar.sha256'), `${sha}\n`);
  }
  const expected = (await readFile(join(FIXTURES, 'ctx-basic.entries.txt'), 'utf8')).trimEnd();
  assert.equal(listing, expected);
  for (const e of entries) {
    assert.deepEqual([e.uid, e.gid, e.uname, e.gname], [0, 0, '', ''], e.name);
    assert.equal(e.mtime, Date.UTC(2000, 0, 1), e.name);
  }
  assert.equal(sha, (await readFile(join(FIXTURES, 'ctx-basic.tar.sha256'), 'utf8')).trim());
  assert.equal(a.dockerfileInTar, 'Dockerfile');
  assert.equal(a.files, entries.filter((e) => e.type !== 'directory').length);
});

test('golden context: Docker selection rules', async () => {
  const names = (await createBuildContext({ contextDir: golden })).entries.map((e) => e.name);
  // Docker always sends the Dockerfile and .dockerignore, even when .dockerignore lists them.
  assert.ok(names.includes('Dockerfile') && names.includes('.dockerignore'));
  assert.ok(names.includes('secrets/public.pem'), '! exception below an excluded directory');
  assert.ok(names.includes('secrets'), 'its parent directory is still an entry');
  for (const gone of ['debug.log', 'dist', 'src/lib/cache.tmp', 'secrets/private.pem', 'docs/guide.md', '.git', 'node_modules']) {
    assert.ok(!names.some((n) => n === gone || n.startsWith(`${gone}/`)), `${gone} is excluded`);
  }
  assert.ok(names.includes('empty'), 'empty directories are kept');
});

test('.git and node_modules are sent when no .dockerignore excludes them (Docker does not skip them)', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [
    ['Dockerfile', 'FROM scratch\n'],
    ['.git/HEAD', 'ref\n'],
    ['node_modules/dep/index.js', '1\n'],
  ]);
  const names = (await createBuildContext({ contextDir: dir })).entries.map((e) => e.name);
  assert.deepEqual(names, ['.git', '.git/HEAD', 'Dockerfile', 'node_modules', 'node_modules/dep', 'node_modules/dep/index.js']);
});

test('the hash follows content, modes and the Dockerfile path, not mtimes', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n', 0o644], ['a.txt', 'one\n', 0o644], ['alt.Dockerfile', 'FROM scratch\n']]);
  const h0 = (await createBuildContext({ contextDir: dir })).hash;
  await writeFile(join(dir, 'a.txt'), 'one\n'); // same content, new mtime
  assert.equal((await createBuildContext({ contextDir: dir })).hash, h0);
  await chmod(join(dir, 'a.txt'), 0o755);
  const h1 = (await createBuildContext({ contextDir: dir })).hash;
  assert.notEqual(h1, h0);
  await writeFile(join(dir, 'a.txt'), 'two\n');
  assert.notEqual((await createBuildContext({ contextDir: dir })).hash, h1);
  assert.notEqual((await createBuildContext({ contextDir: dir, dockerfile: 'alt.Dockerfile' })).hash, h1);
});

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<CmeshError> {
  const err = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CmeshError, String(err));
  assert.equal(err.code, code);
  assert.match(err.message, pattern);
  assert.ok(err.hint, 'every context error carries a hint');
  return err;
}

test('a symlink resolving outside the context is refused, naming it', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['ctx/Dockerfile', 'FROM scratch\n'], ['secret.txt', 'x'], ['ctx/leak', { link: '../secret.txt' }]]);
  await rejectsWith(createBuildContext({ contextDir: join(dir, 'ctx') }), 'CMESH_E_BUILD_CONTEXT', /symlink leak -> \.\.\/secret\.txt/);

  await rm(join(dir, 'ctx/leak'));
  await makeTree(dir, [['ctx/etc', { link: '/etc' }]]);
  await rejectsWith(createBuildContext({ contextDir: join(dir, 'ctx') }), 'CMESH_E_BUILD_CONTEXT', /symlink etc -> \/etc/);

  // Inside-looking path that crosses a link leaving the context.
  await rm(join(dir, 'ctx/etc'));
  await makeTree(dir, [['ctx/out', { link: '..' }], ['ctx/sneaky', { link: 'out/secret.txt' }], ['ctx/.dockerignore', 'out\n']]);
  await rejectsWith(createBuildContext({ contextDir: join(dir, 'ctx') }), 'CMESH_E_BUILD_CONTEXT', /symlink sneaky/);

  // Ignored links are not sent, so they are no concern.
  await writeFile(join(dir, 'ctx/.dockerignore'), 'out\nsneaky\n');
  await createBuildContext({ contextDir: join(dir, 'ctx') });
});

test('an absolute symlink into the context is kept, made relative', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['data/a.txt', 'a'], ['sub/abs', { link: join(dir, 'data/a.txt') }], ['dangling', { link: 'nowhere' }]]);
  const entries = await parseTar(await readAll((await createBuildContext({ contextDir: dir })).tar));
  assert.equal(entries.find((e) => e.name === 'sub/abs')?.linkname, '../data/a.txt');
  assert.equal(entries.find((e) => e.name === 'dangling')?.linkname, 'nowhere', 'dangling links inside are sent as is');
});

test('a context over maxBytes is refused with its size and a .dockerignore hint', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['big.bin', Buffer.alloc(4096)]]);
  const err = await rejectsWith(createBuildContext({ contextDir: dir, maxBytes: 1024 }), 'CMESH_E_BUILD_CONTEXT', /larger than/);
  assert.match(err.hint ?? '', /\.dockerignore/);
  assert.equal(err.details.maxBytes, 1024);
  assert.ok((err.details.bytes as number) > 1024);
  await writeFile(join(dir, '.dockerignore'), '*.bin\n');
  await createBuildContext({ contextDir: dir, maxBytes: 1024 });
});

test('a Dockerfile outside the context ships under a generated name', async () => {
  const dir = await temp('cm-ctx-');
  const text = 'FROM scratch\nCOPY a.txt /\n';
  await makeTree(dir, [['ctx/a.txt', 'a'], ['docker/app.Dockerfile', text]]);
  const ctx = await createBuildContext({ contextDir: join(dir, 'ctx'), dockerfile: '../docker/app.Dockerfile' });
  assert.match(ctx.dockerfileInTar, /^\.cmesh-dockerfile-[0-9a-f]{12}$/);
  const entries = await parseTar(await readAll(ctx.tar));
  assert.deepEqual(entries.map((e) => e.name), [ctx.dockerfileInTar, 'a.txt']);
  assert.equal(entries[0]!.content.toString(), text);
  const again = await createBuildContext({ contextDir: join(dir, 'ctx'), dockerfile: join(dir, 'docker/app.Dockerfile') });
  assert.equal(again.hash, ctx.hash, 'relative or absolute, same Dockerfile, same hash');
});

test('dockerfile_inline ships its text as the Dockerfile, deterministically, whatever Dockerfile the context holds', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['a.txt', 'a'], ['Dockerfile', 'FROM the-file-on-disk\n']]);
  const text = 'FROM scratch\nCOPY a.txt /\n';
  const ctx = await createBuildContext({ contextDir: dir, dockerfile: 'Dockerfile', dockerfileInline: text });
  assert.match(ctx.dockerfileInTar, /^\.cmesh-dockerfile-[0-9a-f]{12}$/);
  assert.equal((await ctx.dockerfileContent()).toString(), text);
  const entries = await parseTar(await readAll(ctx.tar));
  assert.deepEqual(entries.map((e) => e.name), [ctx.dockerfileInTar, 'Dockerfile', 'a.txt']);
  assert.equal(entries[0]!.content.toString(), text);
  const again = await createBuildContext({ contextDir: dir, dockerfileInline: text });
  assert.equal(again.hash, ctx.hash, 'same inline text, same hash');
  assert.notEqual((await createBuildContext({ contextDir: dir, dockerfileInline: `${text}RUN true\n` })).hash, ctx.hash);
  // Without a Dockerfile on disk at all, inline still builds a context.
  const bare = await temp('cm-ctx-');
  await makeTree(bare, [['a.txt', 'a']]);
  assert.equal((await createBuildContext({ contextDir: bare, dockerfileInline: text })).dockerfileInTar, ctx.dockerfileInTar);
});

test('missing Dockerfile and missing context are CMESH_E_BUILD_CONTEXT', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['a.txt', 'a']]);
  await rejectsWith(createBuildContext({ contextDir: dir }), 'CMESH_E_BUILD_CONTEXT', /Dockerfile .* not found/);
  await rejectsWith(createBuildContext({ contextDir: join(dir, 'nope') }), 'CMESH_E_BUILD_CONTEXT', /not a readable directory/);
});

test('an unreadable file is CMESH_E_BUILD_CONTEXT naming its path', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['locked.txt', 'secret', 0o000]]);
  if (process.getuid?.() !== 0) {
    await rejectsWith(createBuildContext({ contextDir: dir }), 'CMESH_E_BUILD_CONTEXT', /cannot read .*locked\.txt/);
    return;
  }
  // root reads through chmod 000: run the packer in a child without root's file-permission capabilities.
  const script = `import { createBuildContext } from ${JSON.stringify(new URL('./context.ts', import.meta.url).href)};
try { await createBuildContext({ contextDir: ${JSON.stringify(dir)} }); console.log('no error'); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }`;
  const res = nodeWithoutDac(['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) assert.fail(`the child without DAC capabilities failed: ${res.stderr || res.stdout}`);
  const err = JSON.parse(line) as { code: string; message: string; hint: string };
  assert.equal(err.code, 'CMESH_E_BUILD_CONTEXT');
  assert.match(err.message, /cannot read .*locked\.txt .*EACCES/);
  assert.match(err.hint, /chmod|\.dockerignore/);
});

test('the tar stream is lazy: nothing is read until consumed, and destroying it early is clean', async () => {
  const dir = await temp('cm-ctx-');
  await makeTree(dir, [['Dockerfile', 'FROM scratch\n'], ['big.bin', Buffer.alloc(2 * 1024 * 1024, 1)]]);
  const ctx = await createBuildContext({ contextDir: dir });
  const it = ctx.tar[Symbol.asyncIterator]();
  await it.next();
  ctx.tar.destroy();
  const fresh = await readAll(ctx.openTar());
  assert.ok(fresh.length > 2 * 1024 * 1024);
});
