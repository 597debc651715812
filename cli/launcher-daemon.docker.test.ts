// NODE_EXTRA_CA_CERTS reaches the daemon unchanged although bin/cmesh starts the CLI's node without it (launcher.test.ts):
// through `daemon start` and through a verb's auto-start, the daemon process's own environment (/proc) names the file,
// and holds cli/daemon-bundle.ts's DAEMON_ENV (MALLOC_ARENA_MAX). A real daemon in its own CMESH_HOME; it creates no
// engine objects.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dockerTestFile } from '../test/helpers/docker.ts';

await dockerTestFile();

const LAUNCHER = fileURLToPath(new URL('../bin/cmesh', import.meta.url));
// Short: the daemon socket path must fit in sockaddr_un.
const home = await mkdtemp(join(tmpdir(), 'cmh-'));
const CA_FILE = '/etc/ssl/certs/ca file with spaces.pem';

function cmesh(args: string[]): Promise<{ code: number | null; err: string }> {
  // Without MALLOC_ARENA_MAX: the daemon gets cli/daemon-bundle.ts's DAEMON_ENV value.
  const { MALLOC_ARENA_MAX: _inherited, ...parent } = process.env;
  const env = { ...parent, CMESH_HOME: home, NO_COLOR: '1', CMESH_METRICS_ADDR: '127.0.0.1:0', CMESH_GATEWAY_IMAGE_GC: 'off', NODE_EXTRA_CA_CERTS: CA_FILE };
  const child = spawn(LAUNCHER, args, { cwd: home, env, timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
}

after(async () => {
  await cmesh(['daemon', 'stop']);
  await rm(home, { recursive: true, force: true });
});

async function daemonEnv(): Promise<Map<string, string>> {
  const pid = (await readFile(join(home, 'daemon.pid'), 'utf8')).trim();
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
  return new Map(environ.split('\0').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

test('the daemon a CLI started through bin/cmesh has NODE_EXTRA_CA_CERTS, and no trace of the launcher', { timeout: 120_000 }, async () => {
  // `ls` auto-starts the daemon (cli/daemon-client.ts), `daemon start` spawns it itself (cli/commands/daemon.ts).
  for (const start of [['ls'], ['daemon', 'start']]) {
    const r = await cmesh(start);
    assert.equal(r.code, 0, r.err);
    const env = await daemonEnv();
    assert.equal(env.get('NODE_EXTRA_CA_CERTS'), CA_FILE, start.join(' '));
    assert.equal(env.has('CMESH_NODE_EXTRA_CA_CERTS'), false);
    assert.equal(env.get('MALLOC_ARENA_MAX'), '2', `${start.join(' ')}: the daemon runs with DAEMON_ENV`);
    const stop = await cmesh(['daemon', 'stop']);
    assert.equal(stop.code, 0, stop.err);
  }
});
