// A throw-away Docker registry for pull tests: Debian's `docker-registry` (distribution 2.8) as a child process on a
// free 127.0.0.1 port (an insecure registry to the engine by default), storage in a temp dir, optional htpasswd auth.
// Install it with `bash scripts/ensure-tools.sh`. The caller stops it in after(); stop() also removes the temp dir.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string;
  port: number;
  /** Credentials when started with auth. */
  auth?: { username: string; password: string };
  /** The registry's own log (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const READY_MS = 15_000;

function htpasswdLine(username: string, password: string): Promise<string> {
  // bcrypt (-B) is the only scheme distribution's htpasswd auth accepts.
  return new Promise((resolve, reject) => {
    execFile('htpasswd', ['-Bbn', username, password], { timeout: 20_000 }, (err, stdout) => {
      if (err) reject(new Error(`htpasswd failed (install apache2-utils: bash scripts/ensure-tools.sh): ${err.message}`));
      else resolve(stdout.trim());
    });
  });
}

export async function startRegistry(opts: { auth?: { username: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-registry-'));
  try {
    let authBlock = '';
    if (opts.auth) {
      await writeFile(join(dir, 'htpasswd'), `${await htpasswdLine(opts.auth.username, opts.auth.password)}\n`);
      authBlock = `auth:\n  htpasswd:\n    realm: cmesh-test\n    path: ${join(dir, 'htpasswd')}\n`;
    }
    // A port another helper grabs between freePort() and the registry's listen makes it exit: try a few ports.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const config = join(dir, 'config.yml');
      await writeFile(
        config,
        `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authBlock}`,
      );
      const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      child.stderr?.on('data', (d: Buffer) => {
        if (log.length < 64_000) log += d.toString('utf8');
      });
      const ready = await waitReady(child, port);
      if (ready === 'ready') {
        return {
          host: `127.0.0.1:${port}`,
          port,
          ...(opts.auth ? { auth: opts.auth } : {}),
          log: () => log,
          stop: async () => {
            await stopChild(child);
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await stopChild(child);
      if (ready === 'missing') throw new Error('docker-registry is not installed: run `bash scripts/ensure-tools.sh`');
      if (attempt >= 2) throw new Error(`docker-registry did not start on 127.0.0.1:${port}: ${log.slice(-2000)}`);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Polls /v2/ until it answers (200, or 401 with auth); bounded by READY_MS. */
async function waitReady(child: ChildProcess, port: number): Promise<'ready' | 'exited' | 'missing'> {
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => (spawnError = err));
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (spawnError) return spawnError.code === 'ENOENT' ? 'missing' : 'exited';
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return 'ready';
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return 'exited';
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
