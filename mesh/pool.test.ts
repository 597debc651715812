// ServicePool: health-gated picks, panic mode, exclude on retry, passive ejection events, drain, ports, swaps.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonEvent } from '../daemon/api/events.ts';
import type { HealthProbe } from '../daemon/api/project.ts';
import { ServicePool } from './pool.ts';
import type { ServicePoolOptions } from './pool-options.ts';
import { startHealthChecks } from './pool-health.ts';

/** An upstream named only by its id (not one a pick handed out): the pool looks its replica up. */
const byId = (id: string) => ({ id, host: '127.0.0.1', port: 0 });
const ep = (hostPort: number, containerPort = 80) => ({ containerPort, protocol: 'tcp' as const, host: '127.0.0.1', hostPort });

function makePool(n: number, opts: Partial<ServicePoolOptions> = {}) {
  const clock = { t: 5_000_000 };
  const events: DaemonEvent[] = [];
  const pool = new ServicePool({
    project: 'demo',
    service: 'web',
    now: () => clock.t,
    emit: (e) => events.push(e),
    mesh: { lb: 'round-robin', health: { path: '/h', intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 }, weights: [], weight: 1 },
    ports: [{ target: 80, published: 8080, protocol: 'tcp' }],
    ...opts,
  });
  for (let i = 1; i <= n; i++) pool.upsert({ replica: i, container: `c${i}`, endpoints: [ep(40000 + i)], state: 'running' });
  return { pool, clock, events };
}

function picked(pool: ServicePool, times = 60): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i < times; i++) {
    const u = pool.pick();
    if (u) s.add(u.id);
  }
  return s;
}

const healthyAll = (pool: ServicePool, n: number) => {
  for (let i = 1; i <= n; i++) pool.setActiveHealth(`web#${i}`, true, 'test');
};

describe('ServicePool', () => {
  it('new replicas take no traffic until active checks pass', () => {
    const { pool, events } = makePool(2);
    assert.equal(pool.pick(), undefined);
    assert.deepEqual(pool.snapshot(), { total: 2, healthy: 0, draining: 0, panic: false });
    pool.setActiveHealth('web#1', true, '2 passing probes');
    assert.deepEqual([...picked(pool)], ['web#1']);
    const { id, host, port } = pool.pick()!;
    assert.deepEqual({ id, host, port }, { id: 'web#1', host: '127.0.0.1', port: 40001 });
    const h = events.find((e) => e.type === 'health');
    assert.deepEqual(h, { type: 'health', service: 'web', replica: 1, source: 'mesh', healthy: true, reason: '2 passing probes', time: 5_000_000, project: 'demo' });
  });

  it('the row names the protocol as declared: http, tcp, h2c, or its alias grpc', () => {
    const base = { lb: 'round-robin' as const, health: { intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 }, weights: [], weight: 1 };
    const cases = [
      [{}, 'http'],
      [{ protocol: 'tcp' as const }, 'tcp'],
      [{ protocol: 'http' as const, upstream: 'h2c' as const }, 'h2c'],
      [{ protocol: 'http' as const, upstream: 'h2c' as const, protocolAlias: 'grpc' as const }, 'grpc'],
    ] as const;
    for (const [mesh, want] of cases) assert.equal(makePool(1, { mesh: { ...base, ...mesh } }).pool.row().protocol, want);
  });

  it('panic mode below 50 % healthy balances over every serving replica, and ends on recovery', () => {
    const { pool } = makePool(4);
    healthyAll(pool, 4);
    pool.setActiveHealth('web#1', false, 'x');
    pool.setActiveHealth('web#2', false, 'x');
    // 2 of 4 healthy is exactly 50 %: not panic yet.
    assert.deepEqual([...picked(pool)].sort(), ['web#3', 'web#4']);
    assert.equal(pool.snapshot().panic, false);
    pool.setActiveHealth('web#3', false, 'x');
    assert.equal(pool.snapshot().panic, true);
    assert.deepEqual([...picked(pool)].sort(), ['web#1', 'web#2', 'web#3', 'web#4']);
    assert.equal(pool.row().panic, true);
    pool.setActiveHealth('web#1', true, 'x');
    assert.equal(pool.snapshot().panic, false);
    assert.deepEqual([...picked(pool)].sort(), ['web#1', 'web#4']);
  });

  it('warming replicas (never healthy yet) do not trigger panic during scale-up', () => {
    const { pool } = makePool(1);
    healthyAll(pool, 1);
    pool.upsert({ replica: 2, container: 'c2', endpoints: [ep(40002)], state: 'running' });
    pool.upsert({ replica: 3, container: 'c3', endpoints: [ep(40003)], state: 'running' });
    assert.equal(pool.snapshot().panic, false);
    assert.deepEqual([...picked(pool)], ['web#1']);
  });

  it('draining replicas are excluded from panic too', () => {
    const { pool } = makePool(3);
    healthyAll(pool, 3);
    pool.setDraining('web#1', true);
    pool.setActiveHealth('web#2', false, 'x');
    // 1 healthy of 2 serving = 50 %: no panic, and the draining one is never picked.
    assert.deepEqual([...picked(pool)], ['web#3']);
    pool.setActiveHealth('web#3', false, 'x');
    assert.equal(pool.snapshot().panic, true);
    assert.deepEqual([...picked(pool)].sort(), ['web#2', 'web#3']);
  });

  it('a retry excludes replicas already tried; undefined when none is left', () => {
    const { pool } = makePool(3);
    healthyAll(pool, 3);
    const tried = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const u = pool.pick({ exclude: tried });
      assert.ok(u && !tried.has(u.id));
      tried.add(u.id);
    }
    assert.equal(pool.pick({ exclude: tried }), undefined);
  });

  it('passive ejection: connect error ejects, emits, then needs rise passing probes after the ejection time', () => {
    const { pool, clock, events } = makePool(3);
    healthyAll(pool, 3);
    pool.onStart(byId('web#2'));
    pool.onResult(byId('web#2'), 3, 'connect-error');
    assert.ok(!picked(pool).has('web#2'));
    assert.equal(pool.row().replicas[1]!.health.passive, 'ejected');
    clock.t += 1000;
    assert.equal(pool.row().replicas[1]!.health.passive, 'probing');
    assert.ok(!picked(pool).has('web#2'));
    pool.onProbe('web#2', true, 'http 200');
    pool.onProbe('web#2', true, 'http 200');
    assert.ok(picked(pool).has('web#2'));
    const ej = events.filter((e) => e.type === 'ejection').map((e) => e.type === 'ejection' && [e.replica, e.ejected, e.reason]);
    assert.deepEqual(ej, [
      [2, true, 'connect-error'],
      [2, false, '2 passing probes after ejection'],
    ]);
  });

  it('the Upstream a pick hands out carries its replica: start and result count in-flight, stats, balancer load and ejection', () => {
    const { pool } = makePool(2, { mesh: { lb: 'p2c', health: { path: '/h', intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 }, weights: [], weight: 1 } });
    healthyAll(pool, 2);
    const u = pool.pick()!;
    const other = u.id === 'web#1' ? 'web#2' : 'web#1';
    pool.onStart(u);
    pool.onStart(u);
    const row = () => pool.row().replicas.find((r) => r.id === u.id)!;
    assert.equal(row().inFlight, 2);
    // p2c over two members sees the load: every pick goes to the idle one.
    assert.deepEqual([...picked(pool, 20)], [other]);
    pool.onResult(u, 3, 'ok');
    assert.equal(row().inFlight, 1);
    assert.equal(row().requests, 1);
    pool.onResult(u, 3, 'connect-error');
    assert.equal(row().inFlight, 0);
    assert.equal(row().errorRate, 0.5);
    assert.equal(row().health.passive, 'ejected');
    assert.deepEqual([...picked(pool, 20)], [other]);
  });

  it('an Upstream picked before its replica was re-added reports on the replica now behind its id, as a result by id does', () => {
    const { pool } = makePool(1);
    healthyAll(pool, 1);
    const u = pool.pick()!;
    pool.onStart(u);
    pool.remove('web#1');
    pool.upsert({ replica: 1, container: 'c1', endpoints: [ep(40001)], state: 'running' });
    healthyAll(pool, 1);
    pool.onResult(u, 3, 'ok');
    assert.equal(pool.row().replicas[0]!.requests, 1);
    // The new Upstream made for the new entry counts there too.
    const v = pool.pick()!;
    assert.notEqual(v, u);
    pool.onStart(v);
    assert.equal(pool.row().replicas[0]!.inFlight, 1);
  });

  it("another pool's Upstream (same id, same generation) reports by id here, never through its own references", () => {
    const a = makePool(1).pool;
    const b = makePool(1).pool;
    healthyAll(a, 1);
    healthyAll(b, 1);
    const u = a.pick()!;
    b.onStart(u);
    b.onResult(u, 3, 'ok');
    assert.equal(b.row().replicas[0]!.requests, 1);
    assert.equal(a.row().replicas[0]!.requests, 0);
    // A plain object that merely has the same fields is not taken for this pool's own Upstream either.
    const lookalike = { ...u, owner: {} };
    b.onResult(lookalike, 3, 'ok');
    assert.equal(b.row().replicas[0]!.requests, 2);
    assert.equal(a.row().replicas[0]!.requests, 0);
  });

  it('without active checks, running replicas serve and ejections end on their own', () => {
    const { pool, clock } = makePool(2, { activeChecks: false });
    assert.deepEqual([...picked(pool)].sort(), ['web#1', 'web#2']);
    pool.onResult(byId('web#1'), 1, 'reset');
    assert.deepEqual([...picked(pool)], ['web#2']);
    clock.t += 1000;
    assert.deepEqual([...picked(pool)].sort(), ['web#1', 'web#2']);
  });

  it('drain removes the replica from picks at once and resolves when in-flight reaches 0', async () => {
    const { pool } = makePool(2);
    healthyAll(pool, 2);
    pool.onStart(byId('web#1'));
    pool.onStart(byId('web#1'));
    let done = false;
    const p = pool.drain('web#1', { graceMs: 10_000 }).then(() => {
      done = true;
    });
    assert.deepEqual([...picked(pool)], ['web#2']);
    assert.equal(pool.snapshot().draining, 1);
    pool.onResult(byId('web#1'), 5, 'ok');
    await sleep(5);
    assert.equal(done, false);
    pool.onResult(byId('web#1'), 5, 'ok');
    await p;
    assert.equal(done, true);
    assert.equal(pool.row().replicas[0]!.draining, true);
  });

  it('drain gives up after graceMs when requests never finish', async () => {
    const { pool } = makePool(2);
    healthyAll(pool, 2);
    pool.onStart(byId('web#1'));
    const t0 = Date.now();
    await pool.drain('web#1', { graceMs: 60 });
    assert.ok(Date.now() - t0 >= 50);
    await pool.drain('web#9', { graceMs: 60 });
  });

  it('routes each published port to its own container port', () => {
    const { pool } = makePool(0);
    pool.configure({
      ports: [
        { target: 80, published: 8080, protocol: 'tcp' },
        { target: 443, published: 8443, protocol: 'tcp' },
      ],
    });
    pool.upsert({ replica: 1, container: 'c1', endpoints: [ep(41443, 443), ep(41080, 80)], state: 'running' });
    healthyAll(pool, 1);
    assert.equal(pool.pick()?.port, 41080);
    assert.equal(pool.forPort(443).pick()?.port, 41443);
    assert.equal(pool.forPort(443), pool.forPort(443));
  });

  it('a replaced container starts unhealthy; a strategy change keeps picking', () => {
    const { pool } = makePool(2);
    healthyAll(pool, 2);
    pool.onResult(byId('web#1'), 1, 'reset');
    pool.upsert({ replica: 1, container: 'c1-new', endpoints: [ep(42001)], state: 'running' });
    assert.deepEqual([...picked(pool)], ['web#2']);
    assert.equal(pool.row().replicas[0]!.health.passive, 'ok', 'the old container’s ejection is forgotten');
    pool.configure({ mesh: { lb: 'p2c', health: pool.healthProbe, weights: [], weight: 1 } });
    assert.equal(pool.strategy, 'p2c');
    assert.deepEqual([...picked(pool)], ['web#2']);
    pool.upsert({ replica: 2, container: 'c2', endpoints: [ep(40002)], state: 'exited' });
    assert.equal(pool.pick(), undefined);
  });
});

describe('startHealthChecks', () => {
  it('joins replicas after rise passes on real servers and drops the one that turns 503', async () => {
    const status = [200, 200];
    const servers = status.map((_, i) => http.createServer((_req, res) => res.writeHead(status[i]!).end()));
    const ports: number[] = [];
    for (const s of servers) {
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      ports.push((s.address() as AddressInfo).port);
    }
    const events: DaemonEvent[] = [];
    const health: HealthProbe = { path: '/h', intervalMs: 30, timeoutMs: 200, rise: 2, fall: 2 };
    const pool = new ServicePool({
      project: 'demo',
      service: 'web',
      emit: (e) => events.push(e),
      mesh: { lb: 'round-robin', health, weights: [], weight: 1 },
    });
    const ac = new AbortController();
    try {
      startHealthChecks(pool, ac.signal);
      pool.upsert({ replica: 1, container: 'c1', endpoints: [ep(ports[0]!)], state: 'running' });
      pool.upsert({ replica: 2, container: 'c2', endpoints: [ep(ports[1]!)], state: 'running' });
      const deadline = Date.now() + 3000;
      while (pool.snapshot().healthy < 2 && Date.now() < deadline) await sleep(10);
      assert.equal(pool.snapshot().healthy, 2);
      status[1] = 503;
      while (pool.snapshot().healthy > 1 && Date.now() < deadline) await sleep(10);
      assert.deepEqual([...picked(pool)], ['web#1']);
      const last = events.filter((e) => e.type === 'health').at(-1);
      assert.ok(last?.type === 'health' && last.replica === 2 && !last.healthy && last.reason === '2 failing probes: http 503');
    } finally {
      ac.abort();
      for (const s of servers) s.close();
    }
  });
});
