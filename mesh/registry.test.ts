// Registry: the service table's rows (health, weights, latency percentiles, error rate, rps) and replica refs.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonEvent } from '../daemon/api/events.ts';
import type { MeshSpec } from '../daemon/api/project.ts';
import { parseReplicaRef, Registry } from './registry.ts';

const mesh: MeshSpec = {
  lb: 'weighted',
  protocol: 'http',
  weights: [1, 3],
  weight: 1,
  health: { path: '/healthz', intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 },
  retries: 2,
  timeouts: { connectMs: 1000, requestMs: 30_000, idleMs: 60_000 },
  accessLog: false,
  healthExplicit: true,
};
/** An upstream named only by its id (not one a pick handed out): the pool looks its replica up. */
const byId = (id: string) => ({ id, host: '127.0.0.1', port: 0 });
const ep = (hostPort: number) => [{ containerPort: 80, protocol: 'tcp' as const, host: '0.0.0.0', hostPort }];

function setup() {
  const clock = { t: 10_000_000 };
  const events: DaemonEvent[] = [];
  const reg = new Registry({ now: () => clock.t, emit: (e) => events.push(e) });
  reg.configureService('shop', { name: 'api', replicas: 3, ports: [{ target: 80, published: 8080, protocol: 'tcp' }], mesh });
  for (let i = 1; i <= 2; i++) reg.upsertReplica({ project: 'shop', service: 'api', replica: i, container: `c${i}`, endpoints: ep(30000 + i), state: 'running' });
  const pool = reg.pool('shop', 'api');
  pool.setActiveHealth('api#1', true, 'ok');
  pool.setActiveHealth('api#2', true, 'ok');
  return { reg, pool, clock, events };
}

describe('Registry', () => {
  it('snapshot rows carry per-service and per-replica state, JSON-clean', () => {
    const { reg } = setup();
    const [row] = reg.snapshot();
    assert.ok(row);
    assert.deepEqual(
      { ...row, replicas: undefined },
      {
        project: 'shop',
        service: 'api',
        strategy: 'weighted',
        protocol: 'http',
        desired: 3,
        ready: 2,
        total: 2,
        draining: 0,
        panic: false,
        publishedPorts: [{ published: 8080, target: 80, hostIp: '127.0.0.1', protocol: 'tcp' }],
        replicas: undefined,
      },
    );
    const r2 = row.replicas[1]!;
    assert.equal(r2.id, 'api#2');
    assert.equal(r2.weight, 3);
    // The engine reported a wildcard; the table shows where the proxy actually connects.
    assert.deepEqual(r2.endpoint, { host: '127.0.0.1', port: 30002 });
    assert.deepEqual(r2.health, { active: 'healthy', activeReason: 'ok', passive: 'ok', ejections: 0 });
    assert.deepEqual(JSON.parse(JSON.stringify(reg.snapshot())), reg.snapshot());
  });

  it('published ports show the address the listener binds: host_ip, else x-cmesh bind, else loopback', () => {
    const reg = new Registry({ now: () => 0, emit: () => undefined });
    const ports = [
      { target: 80, published: 8080, protocol: 'tcp' as const },
      { target: 81, published: 8081, hostIp: '127.0.0.2', protocol: 'tcp' as const },
    ];
    reg.configureService('shop', { name: 'api', replicas: 1, ports, mesh: { ...mesh, bind: '0.0.0.0' } });
    reg.configureService('shop', { name: 'web', replicas: 1, ports, mesh });
    const hosts = Object.fromEntries(reg.snapshot().map((row) => [row.service, row.publishedPorts.map((p) => p.hostIp)]));
    assert.deepEqual(hosts, { api: ['0.0.0.0', '127.0.0.2'], web: ['127.0.0.1', '127.0.0.2'] });
  });

  it('latency percentiles, error rate and requests/s from onResult', () => {
    const { reg, pool, clock } = setup();
    for (let s = 0; s < 10; s++) {
      for (let i = 1; i <= 100; i++) {
        pool.onStart(byId('api#1'));
        pool.onResult(byId('api#1'), i, i % 20 !== 0 ? 'ok' : 'http-5xx');
      }
      clock.t += 1000;
    }
    pool.onStart(byId('api#1'));
    const r1 = reg.snapshot()[0]!.replicas[0]!;
    assert.equal(r1.requests, 1000);
    assert.equal(r1.errorRate, 0.05);
    assert.equal(r1.requestsPerSec, 100);
    assert.equal(r1.inFlight, 1);
    assert.ok(Math.abs(r1.latency.p50Ms! - 50) < 7, String(r1.latency.p50Ms));
    assert.ok(Math.abs(r1.latency.p95Ms! - 95) < 12, String(r1.latency.p95Ms));
    assert.ok(r1.latency.ewmaMs! > 50);
    // 5 % 5xx never made five in a row: no ejection.
    assert.equal(r1.health.passive, 'ok');
  });

  it('weights from the spec drive the weighted balancer', () => {
    const { pool } = setup();
    const c: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const id = pool.pick()!.id;
      c[id] = (c[id] ?? 0) + 1;
    }
    assert.deepEqual(c, { 'api#1': 100, 'api#2': 300 });
  });

  it('string and object replica refs; draining and removal show in the table and emit ejection events', async () => {
    const { reg, pool, events } = setup();
    reg.setDraining('shop/api#1', true);
    assert.equal(reg.snapshot()[0]!.draining, 1);
    assert.equal(pool.pick()?.id, 'api#2');
    reg.setDraining({ project: 'shop', service: 'api', replica: 1 }, false);
    reg.upsertReplica({ project: 'shop', service: 'api', replica: 3, container: 'c3', endpoints: ep(30003), state: 'running' });
    pool.setActiveHealth('api#3', true, 'ok');
    pool.onResult(byId('api#1'), 1, 'connect-error');
    assert.ok(events.some((e) => e.type === 'ejection' && e.replica === 1 && e.ejected && e.project === 'shop'));
    await reg.drain('shop/api#2', { graceMs: 10 });
    reg.removeReplica('shop/api#2');
    assert.deepEqual(
      reg.snapshot()[0]!.replicas.map((r) => r.id),
      ['api#1', 'api#3'],
    );
    assert.throws(() => parseReplicaRef('nope'), /project\/service#N/);
    reg.removeProject('shop');
    assert.deepEqual(reg.snapshot(), []);
  });

  it("the health signal carries one listener however many pools come and go (down, a service dropped)", () => {
    const reg = new Registry();
    const ac = new AbortController();
    reg.startHealthChecks(ac.signal);
    for (let round = 0; round < 20; round++) {
      for (const name of ['a', 'b', 'c']) reg.configureService('p', { name, replicas: 1, ports: [], mesh });
      reg.removeService('p', 'b');
      if (round % 2 === 1) reg.removeProject('p');
    }
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    ac.abort();
  });

  it('startHealthChecks covers pools created later', async () => {
    const server = http.createServer((_q, s) => s.writeHead(200).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const reg = new Registry();
    const ac = new AbortController();
    try {
      reg.startHealthChecks(ac.signal);
      reg.configureService('p', { name: 'late', replicas: 1, ports: [], mesh: { ...mesh, lb: 'p2c' } });
      reg.upsertReplica({ project: 'p', service: 'late', replica: 1, container: 'x', endpoints: ep(port), state: 'running' });
      const deadline = Date.now() + 3000;
      while (reg.snapshot()[0]!.ready < 1 && Date.now() < deadline) await sleep(10);
      assert.equal(reg.snapshot()[0]!.ready, 1);
      assert.equal(reg.pool('p', 'late').pick()?.port, port);
    } finally {
      ac.abort();
      server.close();
    }
  });
});
