// exec, run, cp and rm through the control API: the real daemon on a temp CMESH_HOME, the fake engine underneath (its
// containers run their `sh -c` scripts through the fake shell), the CLI's DaemonClient and io-session as the client.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../cli/daemon-client.ts';
import { runIoSession } from '../cli/io-session.ts';
import type { AttachRequest, ContainersResult, ExecRequest, ReplicaStatus, RunRequest, RunResult, ServiceTableRow, UpRequest } from './api/control.ts';
import { CmeshError } from './api/errors.ts';
import { resolveHome } from './api/home.ts';
import { isOneOff } from './api/labels.ts';
import { type RunningDaemon, startDaemon } from './daemon.ts';
import { tarOf } from './engine/engine-test-kit.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { runShell } from './engine/fake-shell.ts';
import { dep, project, svc } from './reconcile/testing.ts';

let dir: string;
let engine: FakeEngine;
let daemon: RunningDaemon;
let client: DaemonClient;

const shop = project('shop', [
  svc('web', { command: ['sleep', '300'], dependsOn: { db: dep() } }),
  svc('db', { command: ['sleep', '300'] }),
]);
const base = '/v1/projects/shop';
const q = (path: string, request: unknown) => `${base}/${path}?request=${encodeURIComponent(JSON.stringify(request))}`;
const ps = (): Promise<ReplicaStatus[]> => client.request('GET', `${base}/ps?all=1`);
const oneOffs = async () => (await engine.listContainers({ labels: { 'dev.cmesh.project': 'shop' } })).filter(isOneOff);

/** One session: `input` on stdin (then EOF), output captured. */
async function session(path: string, input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  if (input !== undefined) stdin.end(input);
  const socket = await client.upgrade(path);
  const exitCode = await runIoSession({
    socket,
    ...(input === undefined ? {} : { stdin }),
    stdout: { write: (c: string) => (stdout += c) },
    stderr: { write: (c: string) => (stderr += c) },
    tty: false,
    signals: { once: () => process, off: () => process },
  });
  return { exitCode, stdout, stderr };
}

function runRequest(over: Partial<RunRequest> = {}): RunRequest {
  return { project: shop, service: 'web', command: [], env: {}, volumes: [], ports: [], tty: false, interactive: true, detach: false, noDeps: false, ...over };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-oneoff-'));
  engine = new FakeEngine({ now: Date.now });
  engine.setStartHandler((c) => {
    const run = runShell([...(c.spec.entrypoint ?? []), ...(c.spec.command ?? [])]);
    setImmediate(() => {
      if (engine.container(c.id)?.startedAt !== c.startedAt) return;
      for (const line of run.output) engine.emitLog(c.id, line.text, line.stream);
      if (run.exitCode !== undefined) engine.simulateExit(c.id, run.exitCode);
    });
  });
  daemon = await startDaemon({ home: resolveHome({ CMESH_HOME: dir }), engine, version: 'test', resyncMs: 60_000 });
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test('run starts the dependencies, attaches, passes the exit code, and --rm removes the one-off first', async () => {
  const created = await client.request<RunResult>('POST', `${base}/run`, runRequest({ command: ['sh', '-c', 'echo one-off; echo oops >&2; exit 4'], env: { A: '1' } }));
  assert.match(created.name, /^shop-web-run-[0-9a-f]{12}$/);
  assert.deepEqual((await ps()).map((r) => `${r.service}:${r.state}`), ['db:running'], 'db came up; the one-off is no replica');
  const spec = engine.container(created.container)!.spec;
  assert.equal(spec.labels['dev.cmesh.service'], undefined);
  assert.deepEqual(spec.networks.map((n) => n.aliases), [[]], 'no service alias');
  assert.equal(spec.env['A'], '1');
  const attach: AttachRequest = { container: created.container, rm: true, tty: false, stdin: true };
  const out = await session(q('attach', attach), '');
  assert.deepEqual(out, { exitCode: 4, stdout: 'one-off\n', stderr: 'oops\n' });
  assert.equal(engine.container(created.container), undefined, 'removed before the exit code was sent');
});

test('attach refuses a container that is not a one-off of the project, before the upgrade', async () => {
  await client.operation(`${base}/up`, { project: shop, services: [], build: 'auto', wait: false } satisfies UpRequest, () => {});
  const replica = (await ps()).find((r) => r.service === 'web')!;
  await assert.rejects(client.upgrade(q('attach', { container: replica.container })), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_SERVICE_NOT_FOUND');
});

test('exec: exit code and streams, stdin forwarded; a missing replica or stopped one is refused before the upgrade', async () => {
  const exec = (over: Partial<ExecRequest>): string =>
    q('exec', { service: 'web', index: 1, command: ['sh', '-c', 'true'], tty: false, stdin: true, detach: false, env: {}, privileged: false, ...over });
  assert.deepEqual(await session(exec({ command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }), ''), { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  assert.deepEqual(await session(exec({ command: ['cat'] }), 'ping\n'), { exitCode: 0, stdout: 'ping\n', stderr: '' });
  await assert.rejects(client.upgrade(exec({ index: 7 })), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_SERVICE_NOT_FOUND');
  await assert.rejects(client.upgrade(q('exec', { service: 'web' })), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_DAEMON_PROTOCOL');
});

test('a client that leaves mid-run stops the one-off; with --rm it is removed', async () => {
  const created = await client.request<RunResult>('POST', `${base}/run`, runRequest({ command: ['sleep', '300'], noDeps: true }));
  const socket = await client.upgrade(q('attach', { container: created.container, rm: true }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(engine.container(created.container)?.state, 'running');
  socket.destroy();
  for (let i = 0; i < 100 && engine.container(created.container); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(engine.container(created.container), undefined);
});

test('a detached one-off survives reconcile passes, rm -f takes stopped ones, down removes the rest', async () => {
  const kept = await client.request<RunResult>('POST', `${base}/run`, runRequest({ command: ['sh', '-c', 'echo from-one-off; sleep 300'], detach: true, name: 'shop-keep' }));
  assert.equal(engine.container(kept.container)?.state, 'running');
  daemon.manager.wake('shop', 'test');
  await client.request('POST', `${base}/scale`, { services: { web: 1 } });
  assert.equal((await oneOffs()).length, 1, 'not adopted, not an orphan');
  assert.equal((await ps()).filter((r) => r.service === 'web').length, 1);
  const table = await client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop');
  assert.deepEqual(table.find((row) => row.service === 'web')?.replicas.map((r) => r.replica), [1], 'the service table has the replica only');
  await client.request('POST', `${base}/stop`, { services: [] });
  assert.equal(engine.container(kept.container)?.state, 'running', 'stop of the services leaves the one-off alone');
  await client.request('POST', `${base}/start`, { services: [] });
  const logs: { service: string }[] = [];
  for await (const frame of client.stream<{ service: string }>('GET', `${base}/logs`)) logs.push(frame);
  assert.ok(logs.every((l) => l.service !== ''), 'logs show no one-off');

  engine.simulateExit(kept.container, 0);
  const planned = await client.request<ContainersResult>('POST', `${base}/rm`, { services: ['web'], dryRun: true });
  assert.deepEqual(planned.containers, ['shop-keep'], 'the stopped one-off; running replicas stay');
  await client.request('POST', `${base}/rm`, { services: ['web'] });
  assert.deepEqual(await oneOffs(), []);

  await client.request<RunResult>('POST', `${base}/run`, runRequest({ command: ['sleep', '300'], detach: true }));
  await client.operation(`${base}/down`, { volumes: false, removeOrphans: false }, () => {});
  assert.deepEqual(await oneOffs(), []);
});

test('run --rm -d: the one-off runs detached and is gone once it exits', async () => {
  const auto = await client.request<RunResult>('POST', `${base}/run`, runRequest({ command: ['sleep', '300'], detach: true, rm: true, noDeps: true }));
  assert.equal(engine.container(auto.container)?.state, 'running');
  assert.equal(engine.container(auto.container)?.spec.autoRemove, true);
  engine.simulateExit(auto.container, 3);
  assert.equal(engine.container(auto.container), undefined, 'removed with its exit');
  const attached = await client.request<RunResult>('POST', `${base}/run`, runRequest({ command: ['sleep', '300'], rm: true, noDeps: true }));
  assert.equal(engine.container(attached.container)?.spec.autoRemove, undefined, 'attached: the attach removes it after the exit code');
  await client.request('POST', `${base}/rm`, { services: ['web'] });
  assert.deepEqual(await oneOffs(), []);
});

test('archive: PUT puts at the path, GET gives it back', async () => {
  await client.operation(`${base}/up`, { project: shop, services: [], build: 'auto', wait: false } satisfies UpRequest, () => {});
  const put = async (path: string, files: Record<string, string>) =>
    client.request('PUT', q('archive', { service: 'db', index: 1, path }), await tarBytes(files));
  await put('/etc', { 'seed.txt': 'into the directory' });
  await put('/etc/app.conf', { 'local-name.conf': 'key=value\n' });
  const res = await client.download(q('archive', { service: 'db', index: 1, path: '/etc/app.conf' }));
  const bytes: Buffer[] = [];
  for await (const c of res) bytes.push(c as Buffer);
  assert.match(Buffer.concat(bytes).toString('latin1'), /app\.conf[\s\S]*key=value/, 'renamed to the path it was put at');
  const db = (await ps()).find((r) => r.service === 'db')!;
  assert.deepEqual([...engine.container(db.container)!.files.keys()].sort(), ['/etc/app.conf', '/etc/seed.txt']);
  await assert.rejects(put('/nowhere/x.conf', { 'x.conf': 'x' }), (e: unknown) => e instanceof CmeshError && e.code === 'CMESH_E_USAGE');
});

async function tarBytes(files: Record<string, string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarOf(files)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
