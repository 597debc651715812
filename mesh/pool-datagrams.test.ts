// ServicePool for UDP: replicas with only UDP ports take their health from the engine, and the datagram view picks and
// follows replicas by their UDP endpoint for one container port.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerHealth, Endpoint } from '../daemon/api/engine.ts';
import type { DaemonEvent } from '../daemon/api/events.ts';
import { ServicePool } from './pool.ts';

const udp = (hostPort: number, containerPort = 53): Endpoint => ({ containerPort, protocol: 'udp', host: '127.0.0.1', hostPort });
const tcp = (hostPort: number, containerPort = 53): Endpoint => ({ containerPort, protocol: 'tcp', host: '127.0.0.1', hostPort });

function makePool() {
  const events: DaemonEvent[] = [];
  const pool = new ServicePool({
    project: 'demo',
    service: 'dns',
    emit: (e) => events.push(e),
    mesh: { lb: 'round-robin', health: { intervalMs: 50, timeoutMs: 200, rise: 2, fall: 2 }, weights: [], weight: 1 },
    ports: [{ target: 53, published: 5353, protocol: 'udp' }],
  });
  const up = (replica: number, endpoints: Endpoint[], health: ContainerHealth = 'none', state: 'running' | 'exited' = 'running') =>
    pool.upsert({ replica, container: `c${replica}`, endpoints, state, health });
  return { pool, events, up };
}

describe('ServicePool with UDP-only replicas', () => {
  it('a running replica without a healthcheck takes datagrams at once; none of it is probed', () => {
    const { pool, events, up } = makePool();
    up(1, [udp(41001)]);
    up(2, [udp(41002)]);
    const view = pool.forDatagrams(53);
    assert.deepEqual(new Set([view.pick()?.id, view.pick()?.id]), new Set(['dns#1', 'dns#2']));
    assert.deepEqual(view.current('dns#1'), { id: 'dns#1', host: '127.0.0.1', port: 41001 });
    assert.deepEqual(pool.probeTargets(), []);
    assert.equal(pool.row().ready, 2);
    assert.equal(pool.row().replicas[0]?.health.active, 'healthy');
    assert.ok(events.some((e) => e.type === 'health' && e.replica === 1 && e.healthy));
  });

  it('with a healthcheck, the engine health gates it: starting waits, healthy serves, unhealthy leaves', () => {
    const { pool, up } = makePool();
    const view = pool.forDatagrams(53);
    up(1, [udp(41001)], 'starting');
    assert.equal(view.pick(), undefined);
    up(1, [udp(41001)], 'healthy');
    up(2, [udp(41002)], 'healthy');
    assert.equal(view.current('dns#1')?.port, 41001);
    up(1, [udp(41001)], 'unhealthy');
    assert.equal(view.current('dns#1'), undefined);
    assert.deepEqual(new Set([view.pick()?.id, view.pick()?.id]), new Set(['dns#2']));
    up(1, [udp(41001)], 'healthy', 'exited');
    assert.equal(view.current('dns#1'), undefined);
    up(1, [udp(41001)], 'healthy');
    assert.equal(view.current('dns#1')?.port, 41001);
  });

  it('draining or removing a replica ends current() for it; a new container on the same replica moves its address', () => {
    const { pool, up } = makePool();
    up(1, [udp(41001)]);
    up(2, [udp(41002)]);
    const view = pool.forDatagrams(53);
    pool.setDraining('dns#1', true);
    assert.equal(view.current('dns#1'), undefined);
    assert.deepEqual(new Set([view.pick()?.id, view.pick()?.id]), new Set(['dns#2']));
    pool.remove('dns#2');
    assert.equal(view.current('dns#2'), undefined);
    pool.setDraining('dns#1', false);
    pool.upsert({ replica: 1, container: 'c1-new', endpoints: [udp(42001)], state: 'running' });
    assert.deepEqual(view.current('dns#1'), { id: 'dns#1', host: '127.0.0.1', port: 42001 });
  });

  it('a service with TCP and UDP on the same port is probed over TCP and answers each protocol on its own endpoint', () => {
    const { pool, up } = makePool();
    up(1, [tcp(43001), udp(44001)]);
    // Probed like any TCP replica: not routable until the probe passes.
    assert.deepEqual(
      pool.probeTargets().map((t) => t.port),
      [43001],
    );
    assert.equal(pool.forDatagrams(53).pick(), undefined);
    pool.setActiveHealth('dns#1', true, 'probe');
    assert.equal(pool.forDatagrams(53).pick()?.port, 44001);
    assert.equal(pool.forPort(53).pick()?.port, 43001);
    // A UDP port the replica does not serve has no endpoint to give.
    assert.equal(pool.forDatagrams(54).pick(), undefined);
  });
});
