// Where the daemon's pool dials a replica: its own address when the engine reported a direct endpoint, else the
// published port on loopback, never a wildcard or bridge address reported for a binding (replica-entry.ts replicaHost).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../daemon/api/engine.ts';
import { ServicePool } from './pool.ts';
import { replicaHost } from './replica-entry.ts';

const direct = (containerPort: number, protocol: 'tcp' | 'udp' = 'tcp'): Endpoint => ({ containerPort, protocol, host: '172.18.0.7', hostPort: containerPort, direct: true });

describe('replicaHost', () => {
  it('dials a direct endpoint at the container address, and a published one on loopback only', () => {
    assert.equal(replicaHost(direct(80)), '172.18.0.7');
    for (const host of ['127.0.0.1', '0.0.0.0', '172.17.0.1', '192.168.1.9']) assert.equal(replicaHost({ containerPort: 80, protocol: 'tcp', host, hostPort: 40001 }), '127.0.0.1', host);
    assert.equal(replicaHost({ containerPort: 80, protocol: 'tcp', host: '::1', hostPort: 40001 }), '::1');
  });

  it('is what a pick, a probe target, a table row and a datagram view of the pool use', () => {
    const pool = new ServicePool({
      project: 'demo',
      service: 'web',
      mesh: { lb: 'round-robin', health: { path: '/h', intervalMs: 50, timeoutMs: 200, rise: 1, fall: 1 }, weights: [], weight: 1 },
      ports: [{ target: 80, published: 8080, protocol: 'tcp' }, { target: 53, published: 5353, protocol: 'udp' }],
      activeChecks: false,
    });
    pool.upsert({ replica: 1, container: 'c1', endpoints: [direct(80), direct(53, 'udp')], state: 'running' });
    pool.upsert({ replica: 2, container: 'c2', endpoints: [{ containerPort: 80, protocol: 'tcp', host: '0.0.0.0', hostPort: 40002 }], state: 'running' });
    const picks = new Map<string, string>();
    for (let i = 0; i < 4; i++) {
      const u = pool.pick()!;
      picks.set(u.id, `${u.host}:${u.port}`);
    }
    assert.deepEqual(Object.fromEntries(picks), { 'web#1': '172.18.0.7:80', 'web#2': '127.0.0.1:40002' });
    assert.deepEqual(pool.probeTargets().map((t) => `${t.host}:${t.port}`).sort(), ['127.0.0.1:40002', '172.18.0.7:80']);
    assert.deepEqual(pool.row().replicas.map((r) => r.endpoint), [{ host: '172.18.0.7', port: 80 }, { host: '127.0.0.1', port: 40002 }]);
    const udp = pool.forDatagrams(53).pick();
    assert.deepEqual(udp && { host: udp.host, port: udp.port }, { host: '172.18.0.7', port: 53 });
  });
});
