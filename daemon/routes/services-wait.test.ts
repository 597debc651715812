// The service table's long-poll (`up --wait`'s mesh readiness): answers the moment an event shows the named services
// ready, at the deadline with the last look, at once when there is nothing to wait for; and the route through a real
// socket and the CLI's DaemonClient.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { DaemonClient } from '../../cli/daemon-client.ts';
import type { ServiceTableRow } from '../api/control.ts';
import { isCmeshError } from '../api/errors.ts';
import { resolveHome } from '../api/home.ts';
import { meshReady } from '../api/service-table.ts';
import { EventBus } from '../event-bus.ts';
import type { ProjectManager } from '../projects.ts';
import { createRouter } from './router.ts';
import { readyWithinMs, untilMeshReady } from './services-wait.ts';

const row = (service: string, desired: number, ready: number, routed = true): ServiceTableRow =>
  ({
    project: 'shop',
    service,
    desired,
    ready,
    replicas: [],
    publishedPorts: routed ? [{ published: 8080, target: 3000, hostIp: '127.0.0.1', protocol: 'tcp' }] : [],
  }) as unknown as ServiceTableRow;

const risen = (bus: EventBus, project = 'shop'): void =>
  bus.publish({ type: 'health', project, service: 'web', replica: 2, source: 'mesh', healthy: true, reason: '2 passing probes', time: Date.now() });

test('meshReady: routed services need every replica ready; unrouted and absent ones have nothing to wait for', () => {
  assert.equal(meshReady([row('web', 2, 1)], ['web']), false);
  assert.equal(meshReady([row('web', 2, 2)], ['web']), true);
  assert.equal(meshReady([row('worker', 2, 0, false)], ['worker']), true);
  assert.equal(meshReady([], ['web']), true);
  assert.equal(meshReady([row('web', 2, 2), row('api', 1, 0)], ['web']), true, 'a service not asked for does not hold the answer');
});

test('readyWithinMs: whole milliseconds within the bound, anything else a usage error', () => {
  const at = (q: string) => readyWithinMs(new URL(`http://cmesh/v1/services?project=shop${q}`));
  assert.equal(at(''), undefined);
  assert.equal(at('&readyWithinMs=0'), 0);
  assert.equal(at('&readyWithinMs=120000'), 120_000);
  for (const bad of ['-1', '1.5', 'abc', '', '99999999999', '3600001']) {
    assert.throws(() => at(`&readyWithinMs=${bad}`), (e: unknown) => isCmeshError(e) && e.code === 'CMESH_E_USAGE' && e.hint !== undefined, bad);
  }
});

test('the project event that shows the last replica ready answers in the same turn, not at the safety poll', async () => {
  const bus = new EventBus();
  let rows = [row('web', 2, 1), row('db', 1, 1, false)];
  let looks = 0;
  const got: { answer?: ServiceTableRow[] } = {};
  // Read through a call: an assertion on the field would narrow it for good.
  const answer = (): ServiceTableRow[] | undefined => got.answer;
  const look = () => {
    looks++;
    return rows;
  };
  const wait = untilMeshReady({ look, services: ['web', 'db'], bus, project: 'shop', withinMs: 10_000, signal: new AbortController().signal });
  void wait.then((r) => {
    got.answer = r;
  });
  await tick();
  assert.equal(answer(), undefined, 'not ready: the answer waits');
  rows = [row('web', 2, 2), row('db', 1, 1, false)];
  risen(bus, 'other');
  await tick();
  await tick();
  assert.equal(answer(), undefined, "another project's event does not look");
  const before = looks;
  risen(bus);
  risen(bus);
  await tick();
  await tick();
  // Two turns of the loop: the event's look, not the safety poll 100 ms away.
  assert.deepEqual(answer()?.map((r) => r.ready), [2, 1]);
  assert.equal(looks - before, 2, 'a burst of events is one look (plus the answer’s own)');
});

test('never ready: answers at the deadline with the last look; ready at once: no wait at all', async () => {
  const bus = new EventBus();
  const signal = new AbortController().signal;
  const started = Date.now();
  const late = await untilMeshReady({ look: () => [row('web', 3, 1)], services: ['web'], bus, project: 'shop', withinMs: 120, signal });
  assert.ok(Date.now() - started >= 115, `answered after ${Date.now() - started} ms`);
  assert.equal(late[0]?.ready, 1);
  const quick = Date.now();
  await untilMeshReady({ look: () => [row('web', 3, 3)], services: [], bus, project: 'shop', withinMs: 60_000, signal });
  assert.ok(Date.now() - quick < 50);
});

test('the rise noticed without any event (safety poll), and a client that leaves ends the wait', async () => {
  const bus = new EventBus();
  let ready = 0;
  const started = Date.now();
  setTimeout(() => {
    ready = 1;
  }, 50);
  const rows = await untilMeshReady({ look: () => [row('web', 1, ready)], services: ['web'], bus, project: 'shop', withinMs: 10_000, signal: new AbortController().signal });
  assert.equal(rows[0]?.ready, 1);
  assert.ok(Date.now() - started < 2_000);
  const gone = new AbortController();
  const left = untilMeshReady({ look: () => [row('web', 1, 0)], services: ['web'], bus, project: 'shop', withinMs: 60_000, signal: gone.signal });
  gone.abort();
  assert.equal((await left)[0]?.ready, 0);
});

test('GET /v1/services through the socket: the table at once, or held until ready; readyWithinMs needs a project', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cm-sw-'));
  const home = resolveHome({ CMESH_HOME: dir });
  const bus = new EventBus();
  let rows = [row('web', 2, 0)];
  const manager = { requireKnown: async () => undefined } as unknown as ProjectManager;
  const router = createRouter({ manager, bus, info: async () => ({}) as never, services: () => rows, shutdown: () => undefined });
  const server = createServer(router);
  await new Promise<void>((r) => server.listen(home.socket, r));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  const client = new DaemonClient({ home, env: {}, stderr: { write: () => true }, autoStart: false });
  assert.equal((await client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop'))[0]?.ready, 0);
  const held = client.request<ServiceTableRow[]>('GET', '/v1/services?project=shop&service=web&readyWithinMs=20000');
  setTimeout(() => {
    rows = [row('web', 2, 2)];
    risen(bus);
  }, 100);
  const started = Date.now();
  assert.equal((await held)[0]?.ready, 2);
  assert.ok(Date.now() - started < 5_000);
  await assert.rejects(client.request('GET', '/v1/services?readyWithinMs=10'), (e: unknown) => isCmeshError(e) && e.code === 'CMESH_E_USAGE');
});
