// End-to-end through the real entry (bin/cmesh.js → tsx → cli/main.ts): the bits in-process tests can't see,
// like the shim, process exit codes and the real config loader. Spawns cost ~0.5 s each, so keep them few.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readVersion } from './version.ts';

const bin = fileURLToPath(new URL('../bin/cmesh.js', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cmesh(args: string[], cwd = process.cwd()): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bin/cmesh.js', { concurrency: true }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cmesh-cli-'));
    await writeFile(
      join(dir, 'compose.yaml'),
      'services:\n  web:\n    image: nginx:alpine\n    ports:\n      - "8080:80"\n    deploy:\n      replicas: 2\n',
    );
    await writeFile(join(dir, 'broken.yaml'), 'services:\n  web:\n    image: nginx\n    ports: [80\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--version and --help exit 0', async () => {
    const [version, help] = await Promise.all([cmesh(['--version']), cmesh(['--help'])]);
    assert.deepEqual(version, { code: 0, stdout: `${readVersion()}\n`, stderr: '' });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: cmesh/);
  });

  it('an unknown command exits 2 with a suggestion', async () => {
    const r = await cmesh(['confg']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'confg'/);
    assert.match(r.stderr, /Did you mean config\?/);
  });

  it('an unknown option exits 2', async () => {
    const r = await cmesh(['config', '--nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--nope'/);
  });

  it('config prints canonical YAML', async () => {
    const r = await cmesh(['config'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /services:\n\s+web:/);
    assert.match(r.stdout, /nginx:alpine/);
  });

  it('config --json prints the project as JSON', async () => {
    const r = await cmesh(['config', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.services.web.image, 'nginx:alpine');
  });

  it('a broken file exits 3 with file:line:col', async () => {
    const r = await cmesh(['-f', 'broken.yaml', 'config'], dir);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error\[CMESH_E_CONFIG/);
    assert.match(r.stderr, /broken\.yaml:\d+:\d+/);
    assert.equal(r.stdout, '');
  });
});
