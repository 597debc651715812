// bin/cmesh, the installed command (a POSIX sh launcher): reached through npm-style symlinks (relative and absolute,
// chained) in directories with spaces, it runs the CLI; node starts without NODE_EXTRA_CA_CERTS (node 20 parses it
// eagerly) and bin/cmesh.js puts it back, byte for byte, before the CLI's code runs, so children inherit it. The
// daemon's side is launcher-daemon.docker.test.ts.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readVersion } from './version.ts';

const LAUNCHER = fileURLToPath(new URL('../bin/cmesh', import.meta.url));
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmesh launcher '));
  // A global prefix's bin/cmesh → (relative) lib/node_modules/.bin/cmesh → (absolute) the package's bin/cmesh.
  await mkdir(join(dir, 'prefix dir', 'bin'), { recursive: true });
  await mkdir(join(dir, 'prefix dir', 'lib', '.bin'), { recursive: true });
  await symlink(LAUNCHER, join(dir, 'prefix dir', 'lib', '.bin', 'cmesh'));
  await symlink(relative(join(dir, 'prefix dir', 'bin'), join(dir, 'prefix dir', 'lib', '.bin', 'cmesh')), join(dir, 'prefix dir', 'bin', 'cmesh'));
  // Records the variables when node starts (before bin/cmesh.js) and when it exits (what children inherit).
  await writeFile(
    join(dir, 'record.cjs'),
    "const pick = () => ({ extra: process.env.NODE_EXTRA_CA_CERTS ?? null, moved: process.env.CMESH_NODE_EXTRA_CA_CERTS ?? null });\n" +
      "const start = pick();\nprocess.on('exit', () => require('node:fs').writeFileSync(process.env.RECORD_OUT, JSON.stringify({ start, exit: pick() })));\n",
  );
});
after(() => rm(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  out: string;
  err: string;
  record: { start: Record<string, string | null>; exit: Record<string, string | null> };
}

async function run(command: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const recordOut = join(dir, 'record.json');
  await rm(recordOut, { force: true });
  const child = spawn(command, ['--version'], {
    cwd: dir,
    env: { ...env, NODE_OPTIONS: `--require "${join(dir, 'record.cjs')}"`, RECORD_OUT: recordOut },
    timeout: 60_000,
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out, err, record: JSON.parse(await readFile(recordOut, 'utf8')) };
}

const base = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['NODE_EXTRA_CA_CERTS'];
  delete env['CMESH_NODE_EXTRA_CA_CERTS'];
  return env;
};

test('through chained symlinks in paths with spaces, the launcher runs the CLI', async () => {
  const r = await run(join(dir, 'prefix dir', 'bin', 'cmesh'), base());
  assert.deepEqual({ code: r.code, out: r.out, err: r.err }, { code: 0, out: `${readVersion()}\n`, err: '' });
});

test('NODE_EXTRA_CA_CERTS: node starts without it, the CLI puts it back unchanged before its code runs', async () => {
  // Spaces, a `$` and a trailing space: the value is carried as it is, never re-split or expanded.
  const value = join(dir, 'odd name $HOME ', 'ca.pem ');
  const r = await run(LAUNCHER, { ...base(), NODE_EXTRA_CA_CERTS: value });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.record, { start: { extra: null, moved: value }, exit: { extra: value, moved: null } });
  // Set but empty stays set but empty.
  const empty = await run(LAUNCHER, { ...base(), NODE_EXTRA_CA_CERTS: '' });
  assert.deepEqual(empty.record.exit, { extra: '', moved: null });
});

test('without NODE_EXTRA_CA_CERTS nothing is set, and a stray CMESH_NODE_EXTRA_CA_CERTS is not promoted', async () => {
  const r = await run(LAUNCHER, { ...base(), CMESH_NODE_EXTRA_CA_CERTS: '/stray.pem' });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.record, { start: { extra: null, moved: null }, exit: { extra: null, moved: null } });
});
