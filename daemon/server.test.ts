// The control API end to end in-process: real unix socket in a temp CMESH_HOME, the daemon's real project manager and
// reconcile loop, the fake engine underneath. The CLI's DaemonClient is the client, so both sides are exercised.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DaemonClient } from '../cli/daemon-client.ts';
import type { LogFrame, OperationFrame, ProjectSummary, ReplicaStatus, UpRequest } from './api/control.ts';
import type { LogLine, LogOptions } from './api/engine.ts';
import { CmeshError } from './api/errors.ts';
import type { DaemonEvent } from './api/events.ts';
import { type RunningDaemon, startDaemon } from './daemon.ts';
import { FakeEngine } from './engine/fake-engine.ts';
import { resolveHome } from './api/home.ts';
import { project, svc } from './reconcile/testing.ts';
import { eventually } from '../test/helpers/eventually.ts';

/** Counts open log streams, to prove a client disconnect closes every one of them. */
class CountingEngine extends FakeEngine {
  openLogs = 0;
  override async *containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    this.openLogs++;
    try {
      yield* super.containerLogs(id, options);
    } finally {
      this.openLogs--;
    }
  }
}

let dir: string;
let engine: CountingEngine;
let daemon: RunningDaemon;
let client: DaemonClient;

const shop = project('shop', [svc('web', { replicas: 3 }), svc('db', { replicas: 1 })]);
const upBody = (over: Partial<UpRequest> = {}): UpRequest => ({ project: shop, services: [], build: 'auto', wait: false, ...over });

async function start(): Promise<void> {
  daemon = await startDaemon({
    home: resolveHome({ CMESH_HOME: dir }),
    engine,
    version: 'test',
    resyncMs: 60_000,
    reconnect: { initialMs: 20, maxMs: 100 },
  });
}

async function up(over: Partial<UpRequest> = {}): Promise<{ frames: OperationFrame[]; value: unknown }> {
  const frames: OperationFrame[] = [];
  const value = await client.operation('/v1/projects/shop/up', upBody(over), (f) => frames.push(f));
  return { frames, value };
}

const ps = (all = true): Promise<ReplicaStatus[]> => client.request('GET', `/v1/projects/shop/ps${all ? '?all=1' : ''}`);
const count = (rows: ReplicaStatus[], service: string): number => rows.filter((r) => r.service === service).length;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-'));
  engine = new CountingEngine({ now: Date.now });
  // A stale socket file from a crashed daemon must not block the start.
  await writeFile(join(dir, 'daemon.sock'), '');
  await start();
  client = new DaemonClient({ home: daemon.home, env: {}, stderr: { write: () => true }, autoStart: false });
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test('socket is 0600, info answers, and a second daemon on the same home is refused', async () => {
  assert.equal((await stat(daemon.home.socket)).mode & 0o777, 0o600);
  const info = await client.request<{ pid: number; engine: { ok: boolean } }>('GET', '/v1/info');
  assert.equal(info.pid, process.pid);
  assert.equal(info.engine.ok, true);
  await assert.rejects(
    startDaemon({ home: daemon.home, engine, version: 'test' }),
    (err: unknown) => err instanceof CmeshError && err.code === 'CMESH_E_LOCKED',
  );
  assert.ok(await client.probe(), 'the refused daemon did not remove the live socket');
  assert.equal((await readFile(daemon.home.pidFile, 'utf8')).trim(), String(process.pid), 'nor the pid file');
});

test('up streams events then the result, persists desired state, ps shows the replicas', async () => {
  const { frames, value } = await up();
  const started = frames.filter((f) => f.kind === 'event' && f.event.type === 'container' && f.event.action === 'started');
  assert.equal(started.length, 4);
  assert.equal((value as { generation: number }).generation, 1);
  const rows = await ps();
  assert.deepEqual([count(rows, 'web'), count(rows, 'db')], [3, 1]);
  assert.ok(rows.every((r) => r.state === 'running' && r.project === 'shop' && typeof r.container === 'string'));
  const saved = JSON.parse(await readFile(join(dir, 'projects', 'shop.json'), 'utf8'));
  assert.equal(saved.project.name, 'shop');
  const list = await client.request<ProjectSummary[]>('GET', '/v1/projects');
  assert.deepEqual(list.map((p) => [p.name, p.running, p.total]), [['shop', 4, 4]]);
});

test('typed errors: unknown project 404 with hint, unknown service, bad name, unknown route', async () => {
  await assert.rejects(client.request('GET', '/v1/projects/nope/ps'), (err: unknown) => {
    assert.ok(err instanceof CmeshError);
    assert.equal(err.code, 'CMESH_E_PROJECT_NOT_FOUND');
    assert.match(err.hint ?? '', /cmesh up/);
    return true;
  });
  await assert.rejects(client.request('POST', '/v1/projects/shop/scale', { services: { nope: 2 } }), /no service "nope"/);
  await assert.rejects(client.request('GET', '/v1/projects/..%2Fx/ps'), (e: unknown) => (e as CmeshError).code === 'CMESH_E_USAGE');
  await assert.rejects(client.request('GET', '/v1/nothing'), (e: unknown) => (e as CmeshError).code === 'CMESH_E_DAEMON_PROTOCOL');
  // A malformed body is refused at the door, naming the field; the CLI exits 2 (usage) on it.
  await assert.rejects(client.request('POST', '/v1/projects/shop/scale', { services: { web: 'two' } }), (err: unknown) => {
    assert.ok(err instanceof CmeshError);
    assert.equal(err.code, 'CMESH_E_DAEMON_PROTOCOL');
    assert.equal(err.exitCode, 2);
    assert.equal(err.message, 'invalid scale request: services.web: expected number, received string');
    assert.deepEqual(err.issues, [{ path: 'services.web', message: 'expected number, received string' }]);
    return true;
  });
  // A failing operation reports through the final error frame.
  await assert.rejects(up({ services: ['ghost'] }), (e: unknown) => (e as CmeshError).code === 'CMESH_E_SERVICE_NOT_FOUND');
});

test('scale up and down, stop and start keep the desired state', async () => {
  await client.request('POST', '/v1/projects/shop/scale', { services: { web: 5 } });
  assert.equal(count(await ps(), 'web'), 5);
  await client.request('POST', '/v1/projects/shop/scale', { services: { web: 1 } });
  assert.equal(count(await ps(), 'web'), 1);
  // An `up` without --scale keeps the override.
  await up();
  assert.equal(count(await ps(), 'web'), 1);
  await client.request('POST', '/v1/projects/shop/stop', { services: ['web'] });
  assert.deepEqual((await ps()).filter((r) => r.service === 'web').map((r) => r.state), ['exited']);
  assert.equal(count(await ps(false), 'web'), 0);
  await client.request('POST', '/v1/projects/shop/start', { services: ['web'] });
  assert.deepEqual((await ps()).filter((r) => r.service === 'web').map((r) => r.state), ['running']);
  await up({ scale: { web: 3 } });
  assert.equal(count(await ps(), 'web'), 3);
});

test('10 concurrent ups of one project end with exactly one consistent set', async () => {
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => up({ scale: { web: 2 + (i % 2) } })));
  assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
  const rows = await ps();
  const names = rows.map((r) => r.name);
  assert.equal(new Set(names).size, names.length, 'no duplicate replicas');
  // Serialized: whichever up ran last decided the scale, and the engine matches it exactly.
  const wanted = daemon.manager.desired('shop')?.scale['web'];
  assert.ok(wanted === 2 || wanted === 3);
  assert.equal(count(rows, 'web'), wanted);
  assert.equal(count(rows, 'db'), 1);
});

test('logs: tail, follow picks up new replicas, disconnect closes every engine stream', async () => {
  for (const r of await ps()) engine.emitLog(r.container, `hello from ${r.service}-${r.replica}`);
  const frames: LogFrame[] = [];
  for await (const f of client.stream<LogFrame>('GET', '/v1/projects/shop/logs?tail=1&service=web')) frames.push(f);
  assert.deepEqual(frames.map((f) => f.text).sort(), ['hello from web-1', 'hello from web-2', 'hello from web-3']);

  const ac = new AbortController();
  const seen: LogFrame[] = [];
  const reading = (async () => {
    for await (const f of client.stream<LogFrame>('GET', '/v1/projects/shop/logs?follow=1&tail=0&service=web', undefined, ac.signal)) seen.push(f);
  })();
  await eventually(() => engine.openLogs === 3, 'three follow streams');
  await client.request('POST', '/v1/projects/shop/scale', { services: { web: 4 } });
  await eventually(() => engine.openLogs === 4, 'the new replica to be followed');
  const fourth = (await ps()).find((r) => r.service === 'web' && r.replica === 4)!;
  engine.emitLog(fourth.container, 'new replica speaking');
  await eventually(() => seen.some((f) => f.text === 'new replica speaking' && f.replica === 4), 'the new replica line');
  ac.abort();
  await reading;
  await eventually(() => engine.openLogs === 0, 'every engine log stream to close after the client left');
});

test('events: filtered NDJSON feed', async () => {
  const ac = new AbortController();
  const got: DaemonEvent[] = [];
  const reading = (async () => {
    for await (const e of client.stream<DaemonEvent>('GET', '/v1/events?project=shop', undefined, ac.signal)) {
      got.push(e);
      if (e.type === 'project' && e.action === 'scaled') ac.abort();
    }
  })();
  await eventually(() => daemon.bus.stats().subscribers > 0, 'the subscription');
  await client.request('POST', '/v1/projects/shop/scale', { services: { web: 2 } });
  await reading;
  assert.ok(got.every((e) => e.project === 'shop'));
  assert.ok(got.some((e) => e.type === 'project' && e.action === 'scaled'));
  await eventually(() => daemon.bus.stats().subscribers === 0, 'the subscription to end with the client');
});

test('a restarted daemon adopts the same containers without duplicates', async () => {
  const before = (await ps()).map((r) => r.container).sort();
  await daemon.close();
  assert.equal(await client.probe(), undefined);
  await start();
  await eventually(async () => (await daemon.manager.ps('shop', true)).length === before.length, 'adoption');
  // Give the loop a pass; it must not create anything new.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual((await ps()).map((r) => r.container).sort(), before);
  assert.equal(engine.callsOf('createContainer').length > 0, true);
  const creates = engine.callsOf('createContainer').length;
  await up();
  assert.equal(engine.callsOf('createContainer').length, creates, 'an identical up creates nothing');
});

test('down removes everything and forgets the project; a foreign container survives', async () => {
  const canary = engine.addForeignContainer('canary', { running: true });
  await client.operation('/v1/projects/shop/down', { volumes: true, removeOrphans: true }, () => undefined);
  assert.equal((await engine.listContainers({ labels: { 'dev.cmesh.project': 'shop' } })).length, 0);
  assert.equal((await engine.listNetworks({ 'dev.cmesh.project': 'shop' })).length, 0);
  assert.ok(engine.container(canary));
  await assert.rejects(stat(join(dir, 'projects', 'shop.json')), /ENOENT/);
  await assert.rejects(ps(), (e: unknown) => (e as CmeshError).code === 'CMESH_E_PROJECT_NOT_FOUND');
  // Idempotent: a second down (and one of a project that never existed) finds nothing and is not an error.
  const again = await client.operation('/v1/projects/shop/down', { volumes: true, removeOrphans: false }, () => undefined);
  assert.deepEqual(again, { nothingToRemove: true });
  const never = await client.operation('/v1/projects/never-was/down', { volumes: false, removeOrphans: false }, () => undefined);
  assert.deepEqual(never, { nothingToRemove: true });
  assert.ok(engine.container(canary));
});

test('down without desired state removes what carries the project\'s labels, volumes only with -v', async () => {
  await up();
  await client.operation('/v1/projects/shop/down', { volumes: false, removeOrphans: false }, () => undefined);
  // A volume left behind by that down (no -v) still makes `down -v` do work, not answer "nothing".
  await engine.createVolume({ name: 'shop_data', labels: { 'dev.cmesh.project': 'shop', 'dev.cmesh.managed': 'true' } });
  const result = await client.operation('/v1/projects/shop/down', { volumes: true, removeOrphans: false }, () => undefined);
  assert.notDeepEqual(result, { nothingToRemove: true });
  assert.equal((await engine.listVolumes({ 'dev.cmesh.project': 'shop' })).length, 0);
});

test('shutdown over the API stops the daemon and removes the socket and pid file', async () => {
  await client.request('POST', '/v1/shutdown');
  await daemon.closed;
  await assert.rejects(stat(daemon.home.socket), /ENOENT/);
  await assert.rejects(stat(daemon.home.pidFile), /ENOENT/);
});
