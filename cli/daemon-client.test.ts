// DaemonClient against a real daemon process: auto-start (once, even when racing), typed unavailability, and the
// `daemon` verbs. The engine is pointed at a socket that does not exist, so no Docker is needed.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { DaemonInfo } from '../daemon/api/control.ts';
import { CmeshError } from '../daemon/api/errors.ts';
import { createDaemonClient } from './daemon-client.ts';
import { runCli } from './program.ts';
import { captureContext } from './test-helpers.ts';

let home: string;
let env: Record<string, string | undefined>;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'cm-cl-'));
  env = { ...process.env, CMESH_HOME: home, DOCKER_HOST: `unix://${home}/no-docker.sock`, NO_COLOR: '1' };
});

after(async () => {
  // Whatever happened, never leave a daemon behind.
  const pid = Number.parseInt(await readFile(join(home, 'daemon.pid'), 'utf8').catch(() => ''), 10);
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await rm(home, { recursive: true, force: true });
});

test('without auto-start, a missing daemon is CMESH_E_DAEMON_UNAVAILABLE naming the log', async () => {
  const client = createDaemonClient({ env, stderr: { write: () => true } }, { autoStart: false });
  await assert.rejects(client.request('GET', '/v1/info'), (err: unknown) => {
    assert.ok(err instanceof CmeshError);
    assert.equal(err.code, 'CMESH_E_DAEMON_UNAVAILABLE');
    assert.match(err.hint ?? '', /daemon\.log/);
    return true;
  });
});

test('racing clients auto-start exactly one daemon, each says so at most once', async () => {
  const messages: string[] = [];
  const clients = Array.from({ length: 3 }, () => createDaemonClient({ env, stderr: { write: (s: string) => messages.push(s) } }));
  const infos = await Promise.all(clients.map((c) => c.request<DaemonInfo>('GET', '/v1/info')));
  assert.equal(new Set(infos.map((i) => i.pid)).size, 1, 'one daemon serves them all');
  assert.notEqual(infos[0]!.pid, process.pid);
  assert.equal(infos[0]!.engine.ok, false, 'the daemon runs even when the engine is down');
  assert.ok(messages.length >= 1 && messages.length <= 3);
  assert.ok(messages.every((m) => /started the daemon \(pid \d+, log .*daemon\.log\)/.test(m)));
  assert.equal((await stat(join(home, 'daemon.sock'))).mode & 0o777, 0o600);
  // A second call on the same client does not announce anything again.
  const before = messages.length;
  await clients[0]!.request('GET', '/v1/info');
  assert.equal(messages.length, before);
});

test('daemon status / ls / stop through the CLI', async () => {
  const status = captureContext({ env });
  assert.equal(await runCli(['daemon', 'status'], status), 0);
  assert.match(status.out(), /daemon: +running \(pid \d+/);
  assert.match(status.out(), /engine: +unavailable/);

  // The engine is down: the daemon's typed engine error travels to the CLI and picks the exit code.
  const ls = captureContext({ env });
  assert.equal(await runCli(['ls', '--json'], ls), 4);
  assert.equal(JSON.parse(ls.err()).error.code, 'CMESH_E_ENGINE_UNAVAILABLE');

  const ps = captureContext({ env, cwd: home });
  assert.equal(await runCli(['-p', 'ghost', 'ps'], ps), 4);
  assert.match(ps.err(), /CMESH_E_ENGINE_UNAVAILABLE/);

  const stop = captureContext({ env });
  assert.equal(await runCli(['daemon', 'stop'], stop), 0);
  assert.match(stop.err(), /stopped the daemon/);
  await assert.rejects(stat(join(home, 'daemon.sock')), /ENOENT/);

  const after = captureContext({ env });
  assert.equal(await runCli(['daemon', 'status', '--json'], after), 0);
  assert.equal(after.out().trim(), 'null');
});

test('a daemon that dies mid-request (connection reset) is CMESH_E_DAEMON_UNAVAILABLE (exit 1), not a protocol fault', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-rst-'));
  // Takes the request, then drops the connection unanswered, as a SIGKILLed daemon does (the client: socket hang up).
  const server = createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => server.listen(join(dir, 'daemon.sock'), r));
  try {
    const client = createDaemonClient({ env: { ...env, CMESH_HOME: dir }, stderr: { write: () => true } }, { autoStart: false });
    await assert.rejects(client.request('POST', '/v1/projects/p/up', {}), (err: unknown) => {
      assert.ok(err instanceof CmeshError);
      assert.equal(err.code, 'CMESH_E_DAEMON_UNAVAILABLE');
      assert.match(err.message, /mid-request/);
      return true;
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});

test('a daemon that stopped during a command is reported, not replaced: the client that reached it never auto-starts another', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-gone-'));
  const info = { pid: 4242 };
  // Answers like a daemon, until it stops (its socket goes with it, as the real daemon's does).
  const server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(info)));
  await new Promise<void>((r) => server.listen(join(dir, 'daemon.sock'), r));
  const messages: string[] = [];
  const client = createDaemonClient({ env: { ...env, CMESH_HOME: dir }, stderr: { write: (s: string) => messages.push(s) } });
  try {
    assert.deepEqual(await client.request('GET', '/v1/info'), info);
    // Its connections close with it (the client's idle keep-alive one too, seen before the next request), and the socket goes.
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(client.request('GET', '/v1/services?project=p'), (err: unknown) => {
      assert.ok(err instanceof CmeshError);
      assert.equal(err.code, 'CMESH_E_DAEMON_UNAVAILABLE', err.message);
      assert.match(err.message, /stopped during this command/);
      return true;
    });
    assert.deepEqual(messages, [], 'no daemon was started');
    await assert.rejects(stat(join(dir, 'daemon.pid')), /ENOENT/);
  } finally {
    // Without the rule a daemon would have been started here: never leave it behind.
    const pid = Number.parseInt(await readFile(join(dir, 'daemon.pid'), 'utf8').catch(() => ''), 10);
    if (pid > 0) process.kill(pid, 'SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
});
