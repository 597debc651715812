// The shared gateway's worker without Docker: each project's daemon is a unix socket under a temporary root, the
// "project addresses" are loopback addresses (127.0.0.2, .3…: all local on Linux), replicas answer on others.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { freePort } from '../../test/helpers/free-port.ts';
import { type SharedGateway, type SharedGatewayOptions, startSharedGateway } from './shared-gateway.ts';
import { becomes, call, FakeDaemon, replicaService, sharedTable } from './shared-gateway-test-kit.ts';
import { READY, UPGRADE } from './supervisor.ts';

const HOST = 'abcdef012345';

interface Fixture {
  root: string;
  port: number;
  logs: string[];
  sent: { type?: unknown; file?: unknown; runtime?: unknown }[];
  closers: (() => Promise<void>)[];
  start(o?: Partial<SharedGatewayOptions>): SharedGateway;
  daemon(project: string): FakeDaemon;
}

function fixture(t: TestContext, port: number): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'cmesh-gwshared-'));
  const abort = new AbortController();
  const closers: (() => Promise<void>)[] = [];
  const f: Fixture = {
    root,
    port,
    logs: [],
    sent: [],
    closers,
    start: (o = {}) => startSharedGateway({ root, signal: abort.signal, host: HOST, log: (l) => f.logs.push(l), rescanMs: 100, ...o }),
    daemon: (project) => {
      const d = new FakeDaemon(root, project);
      closers.push(() => d.close());
      return d;
    },
  };
  t.after(async () => {
    abort.abort();
    for (const c of closers) await c();
    rmSync(root, { recursive: true, force: true });
  });
  return f;
}

const supervised = (f: Fixture): Partial<SharedGatewayOptions> => ({ send: (m) => f.sent.push(m), warmUpMs: 1000 });

async function logged(f: Fixture, what: RegExp): Promise<void> {
  await becomes(`a log line ${what}`, 'yes', async () => (f.logs.some((l) => what.test(l)) ? 'yes' : 'no'));
}

test('two projects on one port, each on its own address: a call reaches that project\'s replica only; reports per project', async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const b = await f.daemon('b').listen();
  // A service placed on another gateway of the project (a TCP port collision) is not the shared gateway's.
  const other = await freePort();
  const db = { ...(await replicaService('db', other, '127.0.0.22', f.closers)), gateway: 1 };
  a.send(sharedTable('a', [await replicaService('web', f.port, '127.0.0.21', f.closers), db], ['127.0.0.2']));
  b.send(sharedTable('b', [await replicaService('web', f.port, '127.0.0.31', f.closers)], ['127.0.0.3']));
  f.start();
  await becomes('a on its address', '200 web@127.0.0.21', () => call('127.0.0.2', f.port));
  await becomes('b on its address', '200 web@127.0.0.31', () => call('127.0.0.3', f.port));
  for (let i = 0; i < 5; i++) assert.equal(await call('127.0.0.2', f.port), '200 web@127.0.0.21');
  // Neither binds every interface: another address of the host is nobody's.
  assert.equal(await call('127.0.0.9', f.port), 'ECONNREFUSED');
  const ra = await a.report('a serving web', (s) => s.serving?.includes('web') === true);
  assert.equal(ra.project, 'a');
  assert.equal(ra.host, HOST);
  assert.equal(ra.gateway, undefined);
  assert.deepEqual(ra.services.map((s) => s.service), ['web']);
  assert.deepEqual(ra.serving, ['web']);
  assert.equal(await call('127.0.0.2', other), 'ECONNREFUSED');
  const rb = await b.report('b serving web', (s) => s.serving?.includes('web') === true);
  assert.equal(rb.project, 'b');
});

test('discovery: a socket made after start is found by the watch; a project whose directory goes is dropped', async (t) => {
  const f = fixture(t, await freePort());
  // A directory there at start with no socket yet (the daemon made it, then listens): not a project until it does.
  const d = f.daemon('d');
  // No rescan within the test: the directory watches must find every change.
  const shared = f.start({ rescanMs: 60_000 });
  await shared.ready;
  assert.deepEqual(shared.projects(), []);
  const c = f.daemon('c');
  await c.listen();
  c.send(sharedTable('c', [await replicaService('web', f.port, '127.0.0.41', f.closers)], ['127.0.0.4']));
  await becomes('c served', '200 web@127.0.0.41', () => call('127.0.0.4', f.port));
  assert.deepEqual(shared.projects(), ['c']);
  await d.listen();
  d.send(sharedTable('d', [await replicaService('web', f.port, '127.0.0.42', f.closers)], ['127.0.0.17']));
  await becomes('d served', '200 web@127.0.0.42', () => call('127.0.0.17', f.port));
  await d.close();
  rmSync(join(f.root, 'd'), { recursive: true });
  await c.close();
  rmSync(join(f.root, 'c'), { recursive: true });
  await becomes('c closed', 'ECONNREFUSED', () => call('127.0.0.4', f.port));
  await becomes('d closed', 'ECONNREFUSED', () => call('127.0.0.17', f.port));
  assert.deepEqual(shared.projects(), []);
});

test('a later table adds an address (bound there too) and drops one (closed there only)', async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const web = await replicaService('web', f.port, '127.0.0.51', f.closers);
  a.send(sharedTable('a', [web], ['127.0.0.5']));
  f.start();
  await becomes('a on .5', '200 web@127.0.0.51', () => call('127.0.0.5', f.port));
  assert.equal(await call('127.0.0.6', f.port), 'ECONNREFUSED');
  a.send(sharedTable('a', [web], ['127.0.0.5', '127.0.0.6']));
  await becomes('a on .6 too', '200 web@127.0.0.51', () => call('127.0.0.6', f.port));
  await a.report('serving on both', (s) => s.serving?.includes('web') === true);
  a.send(sharedTable('a', [web], ['127.0.0.6']));
  await becomes('a no longer on .5', 'ECONNREFUSED', () => call('127.0.0.5', f.port));
  assert.equal(await call('127.0.0.6', f.port), '200 web@127.0.0.51');
});

test("a table without `shared` closes that project's listeners only; the client stays; shared again serves again", async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const b = await f.daemon('b').listen();
  const webA = await replicaService('web', f.port, '127.0.0.71', f.closers);
  a.send(sharedTable('a', [webA], ['127.0.0.7']));
  b.send(sharedTable('b', [await replicaService('web', f.port, '127.0.0.81', f.closers)], ['127.0.0.8']));
  f.start();
  await becomes('a served', '200 web@127.0.0.71', () => call('127.0.0.7', f.port));
  await becomes('b served', '200 web@127.0.0.81', () => call('127.0.0.8', f.port));
  a.send(sharedTable('a', [webA]));
  await becomes('a closed', 'ECONNREFUSED', () => call('127.0.0.7', f.port));
  assert.equal(await call('127.0.0.8', f.port), '200 web@127.0.0.81');
  // Its last report says it serves nothing here any more.
  await a.report('a serving nothing', (s) => s.serving?.length === 0 && s.services.length === 0);
  assert.equal(a.clients, 1, 'the client stays connected');
  a.send(sharedTable('a', [webA], ['127.0.0.7']));
  await becomes('a served again', '200 web@127.0.0.71', () => call('127.0.0.7', f.port));
});

test('a project that never names `shared` gets no listener and no report', async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const b = await f.daemon('b').listen();
  a.send(sharedTable('a', [await replicaService('web', f.port, '127.0.0.91', f.closers)]));
  b.send(sharedTable('b', [await replicaService('api', f.port, '127.0.0.92', f.closers)], ['127.0.0.16']));
  const shared = f.start();
  await a.until('the shared gateway connected', () => a.clients === 1);
  // b's reports come at once and then every second: two of them span a tick of the 1 s timer.
  await b.until('two reports', () => b.stats.length >= 2 && b.stats.at(-1)!.time - b.stats[0]!.time >= 900);
  assert.equal(shared.gateway('a'), undefined);
  assert.equal(a.stats.length, 0);
  assert.equal(await call('127.0.0.91', f.port), '200 web@127.0.0.91', 'the replica itself answers');
  assert.equal(await call('0.0.0.0', f.port), 'ECONNREFUSED', 'nothing on every interface');
});

test('the daemon gone: the last table keeps being served (through rescans); the restarted daemon\'s table applies', async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const web = await replicaService('web', f.port, '127.0.0.101', f.closers);
  a.send(sharedTable('a', [web], ['127.0.0.10']));
  const shared = f.start();
  await becomes('a served', '200 web@127.0.0.101', () => call('127.0.0.10', f.port));
  await a.close();
  await logged(f, /^a: disconnected/);
  // The socket file is gone, its directory stays: a few rescans (100 ms each) must not take the project away.
  await new Promise((r) => setTimeout(r, 350));
  assert.deepEqual(shared.projects(), ['a']);
  for (let i = 0; i < 3; i++) assert.equal(await call('127.0.0.10', f.port), '200 web@127.0.0.101');
  await a.listen();
  a.send(sharedTable('a', [web], ['127.0.0.11']));
  await becomes('a on the new address', '200 web@127.0.0.101', () => call('127.0.0.11', f.port));
  await becomes('a off the old one', 'ECONNREFUSED', () => call('127.0.0.10', f.port));
});

test('READY with no project: at once', async (t) => {
  const f = fixture(t, await freePort());
  f.start(supervised(f));
  assert.deepEqual(f.sent, [{ type: READY }]);
});

test('READY waits for a project of the first scan: nothing bound until its first table, then listening, then READY', async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const web = await replicaService('web', f.port, '127.0.0.121', f.closers);
  const shared = f.start(supervised(f));
  await a.until('connected', () => a.clients === 1);
  assert.deepEqual(f.sent, []);
  assert.equal(await call('127.0.0.12', f.port), 'ECONNREFUSED');
  a.send(sharedTable('a', [web], ['127.0.0.12']));
  await shared.ready;
  assert.deepEqual(f.sent, [{ type: READY }]);
  // Listening before READY: the supervisor swaps workers on it.
  assert.equal(await call('127.0.0.12', f.port), '200 web@127.0.0.121');
});

test('READY is not held by a first-scan socket nobody listens on', async (t) => {
  const f = fixture(t, await freePort());
  mkdirSync(join(f.root, 'gone'));
  // A socket file left behind by a daemon that died: connecting is refused.
  writeFileSync(join(f.root, 'gone', 'gw.sock'), '');
  const shared = f.start({ ...supervised(f), readyBoundMs: 10_000 });
  assert.deepEqual(shared.projects(), ['gone']);
  const started = Date.now();
  await shared.ready;
  assert.ok(Date.now() - started < 2000, 'long before the bound');
  assert.deepEqual(f.sent, [{ type: READY }]);
});

test('READY at the bound when a first-scan daemon never sends a table', async (t) => {
  const f = fixture(t, await freePort());
  const a = await f.daemon('a').listen();
  const shared = f.start({ ...supervised(f), readyBoundMs: 300 });
  await a.until('connected', () => a.clients === 1);
  assert.deepEqual(f.sent, []);
  await shared.ready;
  assert.deepEqual(f.sent, [{ type: READY }]);
});

test('a project found after READY listens right after its first table (supervised: held until then)', async (t) => {
  const f = fixture(t, await freePort());
  const shared = f.start(supervised(f));
  await shared.ready;
  const a = await f.daemon('a').listen();
  await a.until('connected', () => a.clients === 1);
  assert.equal(await call('127.0.0.13', f.port), 'ECONNREFUSED');
  a.send(sharedTable('a', [await replicaService('web', f.port, '127.0.0.131', f.closers)], ['127.0.0.13']));
  await becomes('a served', '200 web@127.0.0.131', () => call('127.0.0.13', f.port));
  assert.deepEqual(f.sent, [{ type: READY }]);
});

test('worker swap asked once whichever project names it; DRAIN drains every project; a table drain names one', async (t) => {
  const f = fixture(t, await freePort());
  const worker = 'worker-0123456789abcdef.mjs';
  writeFileSync(join(f.root, 'worker.json'), JSON.stringify({ file: worker, runtime: 'runtime-1' }));
  const a = await f.daemon('a').listen();
  const b = await f.daemon('b').listen();
  const webA = await replicaService('web', f.port, '127.0.0.141', f.closers);
  a.send(sharedTable('a', [webA], ['127.0.0.14'], { worker }));
  b.send(sharedTable('b', [await replicaService('web', f.port, '127.0.0.151', f.closers)], ['127.0.0.15'], { worker }));
  const shared = f.start({ ...supervised(f), ownBundle: 'worker-aaaaaaaaaaaaaaaa.mjs' });
  await shared.ready;
  await a.report('a serving', (s) => s.serving?.includes('web') === true);
  await b.report('b serving', (s) => s.serving?.includes('web') === true);
  assert.deepEqual(
    f.sent.filter((m) => m.type === UPGRADE),
    [{ type: UPGRADE, file: join(f.root, worker), runtime: join(f.root, 'runtime-1') }],
  );
  // A's table names this container in its drain list: A drains, B does not.
  a.send(sharedTable('a', [webA], ['127.0.0.14'], { worker, drain: [HOST] }));
  await a.report('a draining', (s) => s.draining === true);
  assert.equal(shared.gateway('b')?.draining, false);
  shared.drain();
  await b.report('b draining', (s) => s.draining === true);
});
