// waitNextHealthy against a real HTTP server on loopback: fast probing while the new container boots, rise passes
// before it is routable, routable at once after, a late boot's first pass confirmed at the fast interval, and false
// (never routable) on timeout.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Registry } from '../mesh/registry.ts';
import type { Endpoint } from './api/engine.ts';
import { nextPoolId, waitNextHealthy } from './mesh-rollout.ts';
import { svc } from './reconcile/testing.ts';

const web = svc('web', { ports: [{ target: 3000, published: 8080, protocol: 'tcp' }] });
const mesh = { ...web.mesh, health: { path: '/healthz', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 } };

/**
 * Answers 503 until `bootMs` after its first request (a booting app), then 200; counts the probes it saw and calls
 * `onBootingProbe` on each 503.
 */
async function booting(bootMs: number, onBootingProbe = (): void => undefined): Promise<{ port: number; probes: () => number; close: () => Promise<void> }> {
  let born: number | undefined;
  let probes = 0;
  const server = http.createServer((_req, res) => {
    probes++;
    born ??= Date.now();
    res.statusCode = Date.now() - born < bootMs ? 503 : 200;
    if (res.statusCode === 503) onBootingProbe();
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    probes: () => probes,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function setup(port: number) {
  const registry = new Registry();
  registry.configureService('p', { name: 'web', mesh, ports: web.ports, replicas: 1 });
  const closed: string[] = [];
  const deps = { registry, closeUpstream: (_p: string, _s: string, id: string) => void closed.push(id) };
  const endpoints: Endpoint[] = [{ containerPort: 3000, protocol: 'tcp', host: '127.0.0.1', hostPort: port }];
  const next = { id: 'c-next', name: 'p-web-1-next', service: 'web', replica: 1 };
  return { registry, deps, endpoints, next };
}

test('probed every ~25 ms while it boots; routable right after `rise` passes, not before', async () => {
  // Whether the new container was routable at each probe it answered 503 (booting): a condition, not a sleep that a
  // loaded host may stretch past the boot.
  const routableWhileBooting: boolean[] = [];
  let pool: ReturnType<Registry['pool']> | undefined;
  const app = await booting(300, () => void routableWhileBooting.push(pool?.pick() !== undefined));
  try {
    const { registry, deps, endpoints, next } = setup(app.port);
    pool = registry.pool('p', 'web');
    const started = Date.now();
    // A reference 25 ms timer over the same span: on a loaded host every timer fires late, so the probe cadence is
    // judged against what a 25 ms timer actually got, not against the wall clock.
    let ticks = 0;
    const reference = setInterval(() => ticks++, 25);
    const waiting = waitNextHealthy(deps, 'p', next, endpoints, 15_000).finally(() => clearInterval(reference));
    assert.equal(await waiting, true);
    assert.ok(routableWhileBooting.length > 0 && !routableWhileBooting.includes(true), `not routable while booting: ${routableWhileBooting}`);
    const took = Date.now() - started;
    assert.ok(took >= 300, `healthy only after boot (${took} ms)`);
    // 1.5 s of the reference timer: waiting for the pool's 1 s interval after a 300 ms boot would be ~90 ticks.
    assert.ok(ticks < 60, `found well within the pool's 1 s interval after boot (${took} ms, a 25 ms timer ticked ${ticks} times)`);
    // 300 ms of boot at ~25 ms is ~12 failing probes, then 2 passes; at 100 ms it would be 3 + 2, a quarter of the
    // reference timer's ticks.
    assert.ok(app.probes() >= 4 && app.probes() >= ticks / 2, `${app.probes()} probes while a 25 ms timer ticked ${ticks} times`);
    assert.equal(pool.pick()?.id, nextPoolId('web', 1), 'routable at once');
  } finally {
    await app.close();
  }
});

test('false on timeout, and the new container never became routable', async () => {
  const app = await booting(60_000);
  try {
    const { registry, deps, endpoints, next } = setup(app.port);
    assert.equal(await waitNextHealthy(deps, 'p', next, endpoints, 300), false);
    assert.equal(registry.pool('p', 'web').pick(), undefined);
  } finally {
    await app.close();
  }
});

test('a replica that comes up after the fast window: its passing probe is confirmed at the fast interval', { timeout: 20_000 }, async () => {
  // Gaps between probes in ticks of a 25 ms reference timer (on a loaded host both fire late alike): the slow interval
  // is ~4 ticks, the fast one ~1.
  let ticks = 0;
  const reference = setInterval(() => ticks++, 25);
  let lastTick: number | undefined;
  let booted = false;
  const passTicks: number[] = [];
  const server = http.createServer((_req, res) => {
    const gap = lastTick === undefined ? 0 : ticks - lastTick;
    lastTick = ticks;
    // It boots once the prober has gone slow (a gap of 3+ ticks): the condition, not a time, of coming up late.
    booted ||= gap >= 3;
    if (booted) passTicks.push(ticks);
    res.statusCode = booted ? 200 : 503;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { deps, endpoints, next } = setup((server.address() as AddressInfo).port);
    assert.equal(await waitNextHealthy(deps, 'p', next, endpoints, 15_000), true);
    assert.equal(passTicks.length, mesh.health.rise, `healthy after rise passes: ${passTicks}`);
    assert.ok(passTicks[1]! - passTicks[0]! <= 2, `the confirming probe came ${passTicks[1]! - passTicks[0]!} ticks after the first pass`);
  } finally {
    clearInterval(reference);
    await new Promise((r) => server.close(r));
  }
});
