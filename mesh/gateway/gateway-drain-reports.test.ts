// The gateway's 50 ms drain reports (drain-reports.ts): none, and no row built, while nothing drains; every ~50 ms while
// a draining replica has a request in flight through it, or while the gateway itself drains (the daemon waits on them:
// daemon/gateway-hub-drain.ts). Real sockets on loopback: the gateway on .1, a replica that holds its answer on .2.

import assert from 'node:assert/strict';
import http from 'node:http';
import { type TestContext, test } from 'node:test';
import { GATEWAY_PROTOCOL_VERSION, type GatewayTable } from '../../daemon/api/gateway-control.ts';
import { freePort } from '../proxy/testing.ts';
import { Gateway } from './gateway.ts';
import { httpService } from './gateway-test-kit.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const table = (port: number, draining: boolean): GatewayTable => {
  const web = httpService('web', port, 'abcdefabcdef');
  return { type: 'table', version: GATEWAY_PROTOCOL_VERSION, project: 'p', services: [{ ...web, replicas: web.replicas.map((r) => ({ ...r, draining })) }] };
};

/** A gateway for `web` whose replica answers only when told (`release`); `reports` counts its drain reports. */
async function setUp(t: TestContext) {
  const port = await freePort();
  const held: http.ServerResponse[] = [];
  let arrived = 0;
  const replica = http.createServer((_req, res) => {
    arrived++;
    held.push(res);
  });
  await new Promise<void>((r) => replica.listen(port, '127.0.0.2', r));
  const abort = new AbortController();
  const reports: number[] = [];
  /** Reports that found nothing in flight through the gateway (counted only once `watchIdle` is set: rows get built). */
  const idleReports: number[] = [];
  let watchIdle = false;
  const onDrainReport = (): void => {
    reports.push(performance.now());
    if (watchIdle && gateway.rows().every((s) => s.replicas.every((r) => r.inFlight === 0))) idleReports.push(performance.now());
  };
  const gateway: Gateway = new Gateway({ signal: abort.signal, host: '127.0.0.1', resolve: async () => '127.0.0.2', onDrainReport });
  t.after(async () => {
    for (const res of held) res.end();
    abort.abort();
    await gateway.close();
    replica.closeAllConnections();
    await new Promise<void>((r) => replica.close(() => r()));
  });
  await gateway.apply(table(port, false));
  return {
    port,
    gateway,
    reports,
    idleReports,
    watchIdle: () => {
      watchIdle = true;
    },
    /** A request through the gateway that stays in flight until release(); resolves once the replica holds it. */
    hold: async (): Promise<void> => {
      const before = arrived;
      http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host: 'web' } }, (res) => res.resume()).on('error', () => undefined);
      while (arrived === before) await sleep(5);
    },
    release: () => {
      for (const res of held.splice(0)) res.end('ok');
    },
  };
}

test('nothing draining: no drain report and no row built, however long it idles', async (t: TestContext) => {
  const { gateway, reports } = await setUp(t);
  // Every way a row gets built: the gateway's rows(), the registry's snapshot, each pool's row().
  let built = 0;
  const count = <T extends object, K extends keyof T>(o: T, k: K): void => {
    const f = o[k] as (...a: unknown[]) => unknown;
    o[k] = ((...a: unknown[]) => {
      built++;
      return f.apply(o, a);
    }) as T[K];
  };
  count(gateway, 'rows');
  count(gateway.registry, 'snapshot');
  for (const pool of gateway.registry.list()) count(pool, 'row');
  // Ten report periods (50 ms) and more: the check that used to build every row each period would have built 10.
  await sleep(600);
  assert.equal(built, 0, 'rows built while nothing drains');
  assert.equal(reports.length, 0);
});

test('a draining replica with a request in flight here: reports every ~50 ms until the request ends', async (t: TestContext) => {
  const { gateway, reports, idleReports, watchIdle, hold, release, port } = await setUp(t);
  await hold();
  await gateway.apply(table(port, true));
  const from = performance.now();
  await sleep(600);
  const during = reports.filter((at) => at >= from).length;
  // 12 periods; timers on a loaded machine slip, so at least half of them.
  assert.ok(during >= 6, `${during} reports in 600 ms while a draining replica had a request in flight`);
  // The request ended: one report more says so at once (the daemon waits for it, not for the 1 s stats), then none.
  watchIdle();
  release();
  await sleep(150);
  assert.equal(idleReports.length, 1, 'no report (or more than one) showing nothing in flight once the request had ended');
  const after = reports.length;
  await sleep(400);
  assert.equal(reports.length, after, 'reports went on with nothing in flight');
});

test('the gateway itself draining: reports every ~50 ms, none once the drain is called off', async (t: TestContext) => {
  const { gateway, reports } = await setUp(t);
  gateway.startDraining();
  const from = performance.now();
  await sleep(600);
  const during = reports.filter((at) => at >= from).length;
  assert.ok(during >= 6, `${during} reports in 600 ms while the gateway drained`);
  gateway.stopDraining();
  await sleep(150);
  const after = reports.length;
  await sleep(400);
  assert.equal(reports.length, after, 'reports went on after the drain was called off');
});
