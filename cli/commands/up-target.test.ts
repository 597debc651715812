// `cmesh up` target selection in the CLI: bad values fail before anything loads, and what the swarm target cannot do
// yet (foreground log streaming, --watch) fails before the daemon is asked to deploy anything.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../program.ts';
import { captureContext } from '../test-helpers.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-up-target-'));
  await writeFile(join(dir, 'compose.yaml'), 'name: shop\nx-cmesh: {target: swarm}\nservices:\n  web: {image: busybox}\n');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// CMESH_HOME in the temp dir: should anything try to reach a daemon, it finds none rather than a real one.
const ctxWith = (env: Record<string, string> = {}) => captureContext({ cwd: dir, env: { CMESH_HOME: join(dir, 'home'), CMESH_NO_AUTOSTART: '1', ...env } });

test('up --target takes local or swarm; a bad flag or CMESH_TARGET is a usage error (exit 2)', async () => {
  const flag = ctxWith();
  assert.equal(await runCli(['up', '-d', '--target', 'k8s'], flag), 2);
  assert.match(flag.err(), /--target "k8s" is not a target/);
  const env = ctxWith({ CMESH_TARGET: 'nomad' });
  assert.equal(await runCli(['up', '-d'], env), 2);
  assert.match(env.err(), /CMESH_TARGET "nomad" is not a target/);
});

test('x-cmesh.target: swarm in the file: a foreground up or --watch is refused by name before the daemon is asked', async () => {
  const fg = ctxWith();
  assert.equal(await runCli(['up'], fg), 2);
  assert.match(fg.err(), /CMESH_E_TARGET_UNSUPPORTED.*`cmesh up` in the foreground is not supported yet on the swarm target/);
  const watch = ctxWith({ CMESH_TARGET: 'swarm' });
  assert.equal(await runCli(['up', '--watch', '--target', 'swarm'], watch), 2);
  assert.match(watch.err(), /`cmesh up --watch`/);
});

test('up --registry takes a registry host (no scheme, no tag); a bad one is a usage error before anything loads', async () => {
  const ctx = ctxWith();
  assert.equal(await runCli(['up', '-d', '--registry', 'https://reg.example.com'], ctx), 2);
  assert.match(ctx.err(), /--registry "https:\/\/reg.example.com" is not a registry/);
});
